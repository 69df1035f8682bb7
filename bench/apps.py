"""The systems a benchmark runs against, each started as real processes on loopback ports.

  echo      a bare Reflex app whose handler echoes the text back: the baseline
  inline    inline runner + memory bus, SQLite, one `reflex run --env prod` backend
  celery    Celery runner + Redis bus + Redis state, PostgreSQL, 2 workers, 2 granian workers
  chainlit  stock Chainlit 2.12.0 echo app in its own venv (bench.chainlit_peer)

`running(kind, folder)` yields a `Running`: its URL and the process ids whose CPU and memory
count as the server's. Everything started is stopped when the block ends.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import stop_group, wait_until_up  # noqa: E402
from tests.integration.apps import BIN, AppBackend, reflex_prod  # noqa: E402
from tests.services import free_port, postgres_server, redis_server  # noqa: E402

COMPYMAC = ("inline", "celery")
PASSWORD = "correct horse battery"


@dataclass
class Running:
    kind: str
    url: str
    # Roots of the server's process trees (backend, workers): CPU and RSS are summed over them.
    pids: list[int] = field(default_factory=list)


ECHO_APP = """
import reflex as rx


class EchoState(rx.State):
    text: str = ""

    @rx.event
    def echo(self, text: str) -> None:
        self.text = text


def index() -> rx.Component:
    return rx.text(EchoState.text)


app = rx.App()
app.add_page(index)
"""


@contextmanager
def echo_app(folder: Path) -> Iterator[Running]:
    (folder / "echo_app").mkdir(parents=True)
    (folder / "echo_app" / "__init__.py").write_text("")
    (folder / "echo_app" / "echo_app.py").write_text(ECHO_APP)
    (folder / "rxconfig.py").write_text(
        "import reflex as rx\nconfig = rx.Config(app_name='echo_app', telemetry_enabled=False)\n"
    )
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", folder.parent / "echo.log"
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            reflex_prod(port),
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(f"{url}/ping", process, log, timeout=300)
        yield Running("echo", url, [process.pid])
    finally:
        stop_group(process)


def app_env(base: Path, **extra: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(base / "data"),
        "BUILTIN_STREAM_DELAY_MS": "0",
        "SIGNUPS_PER_HOUR_PER_IP": "100000",
        "MESSAGES_PER_MINUTE": "100000",
        "JOBS_PER_USER": "100",
        **extra,
    }


@contextmanager
def compymac(
    kind: str, base: Path, extra: dict[str, str], worker_concurrency: int = 2
) -> Iterator[Running]:
    with ExitStack() as stack:
        if kind == "inline":
            env = app_env(base, **extra)
        else:
            pg_base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
            pg_base.chmod(0o755)  # readable by the postgres user; removed after it stops
            stack.callback(shutil.rmtree, pg_base, ignore_errors=True)
            pg = stack.enter_context(postgres_server(pg_base))
            pg.psql("CREATE DATABASE bench")
            redis = stack.enter_context(redis_server(base))
            key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            env = app_env(
                base,
                DATABASE_URL=pg.url("bench"),
                REDIS_URL=redis.url,
                REFLEX_REDIS_URL=redis.url.replace("/0", "/1"),
                EVENT_BUS="redis",
                JOB_RUNNER="celery",
                RATE_LIMIT_STORE="redis",
                GRANIAN_WORKERS="2",
                SECRET_KEYS=f"k1:{key}",
                **extra,
            )
        full = {**os.environ, **env}
        subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=full, check=True)
        # This process seeds users, sessions and messages: the same database as the backend.
        # Put back afterwards: the next system must not inherit this one's DATABASE_URL.
        from tests.conftest import clear_caches

        saved = dict(os.environ)
        stack.callback(_restore_environ, saved)
        os.environ.update(env)
        clear_caches()
        pids = []
        if kind == "celery":
            from tests.integration.conftest import WORKER_CMD

            for n in (1, 2):
                log = (base / f"worker{n}.log").open("ab")
                stack.callback(log.close)
                worker = subprocess.Popen(
                    [*WORKER_CMD, "-n", f"bench{n}@%h", "-c", str(worker_concurrency)],
                    cwd=ROOT,
                    env=full,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                stack.callback(stop_group, worker)
                pids.append(worker.pid)
        backend = AppBackend(base / "app", env, "app")
        backend.start()
        stack.callback(backend.stop)
        assert backend.process is not None
        yield Running(kind, backend.url, [backend.process.pid, *pids])


def _restore_environ(saved: dict[str, str]) -> None:
    from tests.conftest import clear_caches

    os.environ.clear()
    os.environ.update(saved)
    clear_caches()


def show_logs(base: Path, lines: int = 30) -> None:
    """The tail of every log a failed system left, before its folder is removed."""
    for log in sorted(base.rglob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {log.relative_to(base)} (last {len(tail)} lines)", *tail, sep="\n")


@contextmanager
def running(
    kind: str, base: Path, extra: dict[str, str] | None = None, worker_concurrency: int = 2
) -> Iterator[Running]:
    """Start one system under `base` (a fresh folder) and stop it after the block; on an
    error, print its logs first."""
    try:
        if kind == "echo":
            with echo_app(base / "echo") as app:
                yield app
        elif kind == "chainlit":
            from bench.chainlit_peer import chainlit_app

            with chainlit_app(base / "chainlit") as app:
                yield app
        elif kind in COMPYMAC:
            with compymac(kind, base, extra or {}, worker_concurrency) as app:
                yield app
        else:
            raise ValueError(f"unknown profile {kind!r}")
    except Exception:
        show_logs(base)
        raise


def on_chosen_database(measure: Callable[[list[str], str], None], prefix: str) -> None:
    """`python -m bench.X [--postgres] ...`: run `measure(args, label)` on SQLite (the default
    settings) or on a fresh PostgreSQL server started for the run."""
    args = sys.argv[1:]
    if args[:1] == ["--postgres"]:
        base = Path(tempfile.mkdtemp(prefix=f"{prefix}-pg-"))
        base.chmod(0o755)
        with postgres_server(base) as server:
            server.psql("CREATE DATABASE bench")
            os.environ["DATABASE_URL"] = server.url("bench")
            measure(args[1:], "PostgreSQL")
        return
    measure(args, "SQLite")

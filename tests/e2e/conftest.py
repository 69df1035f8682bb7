"""The real app in production mode on a free port, and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from compymac_rx.ops.loopwatch import STALL_MARK
from tests.fake_openai import FakeOpenAI
from tests.services import Postgres, Redis, free_port

if TYPE_CHECKING:
    from tests.integration.apps import AppBackend

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def wait_until_up(
    url: str,
    process: subprocess.Popen[bytes],
    log: Path,
    timeout: float,
    what: str = "the app",
) -> None:
    """Poll `url` until it answers 200; fail with the log's tail if `process` dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer in {timeout} s:\n{log.read_text()[-4000:]}")


def stop_group(process: subprocess.Popen[bytes]) -> None:
    for signal_number in (15, 9):
        try:
            os.killpg(process.pid, signal_number)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue


class RunningApp:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir


@contextmanager
def run_app(data_dir: Path, port: int, extra_env: dict[str, str]) -> Iterator[RunningApp]:
    """Migrate, then `reflex run --env prod` on `port`; stopped (the whole group) after."""
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "PUBLIC_URL": f"http://localhost:{port}",
        "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        # The loop watchdog logs any stall over 50 ms; one inside the app fails the run.
        "LOOP_STALL_WARN_MS": "50",
        **extra_env,
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "alembic"), "upgrade", "head"], cwd=ROOT, env=env, check=True)
    log = data_dir / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(bin_dir / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                str(port),
                "--backend-port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://localhost:{port}"
    try:
        wait_until_up(f"{url}/health", process, log, timeout=240)
        wait_until_up(f"{url}/signin", process, log, timeout=60)
        yield RunningApp(url, data_dir)
    finally:
        stop_group(process)
    assert_loop_never_blocked_by_app(log)


# Frames that mean the loop was waiting, not computing: a stall with one of these on its stack
# fails however short it was. A stall without one fails only when it is long, so that a busy
# machine pausing the process in the middle of our code is not taken for a blocking call.
WAITING_FRAMES = (
    "/sqlalchemy/",
    "/sqlite3/",
    "/psycopg",
    "/socket.py",
    "/ssl.py",
    "/subprocess.py",
    "/httpx/_client.py",
    "/httpcore/_sync/",
    "/redis/client.py",
    "/redis/connection.py",
    "/urllib/request.py",
    "/shutil.py",
)
LONG_STALL_MS = 250


def assert_loop_never_blocked_by_app(log: Path) -> None:
    """Nothing that waits may run on the event loop: the watchdog names any stall of ours."""
    stalls = [b for b in log.read_text(errors="replace").split(STALL_MARK)[1:] if fails(b)]
    assert not stalls, f"{len(stalls)} event loop stall(s) in the app:\n" + "\n".join(
        STALL_MARK + block[:1500] for block in stalls[:5]
    )


def fails(stall: str) -> bool:
    """A logged stall (" for 73 ms+ in this app:" then its stack) that fails the run."""
    head, _, rest = stall.partition(":")
    if not head.rstrip().endswith("in this app"):
        return False
    stack = "\n".join(rest.splitlines()[:30])
    words = head.split()
    ms = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
    return ms >= LONG_STALL_MS or any(mark in stack for mark in WAITING_FRAMES)


@pytest.fixture(scope="session")
def app_server(
    tmp_path_factory: pytest.TempPathFactory, fake_openai_server: FakeOpenAI
) -> Iterator[RunningApp]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    extra = {
        "BUILTIN_STREAM_DELAY_MS": "120",
        "HISTORY_PAGE_SIZE": "6",
        "SIGNUPS_PER_HOUR_PER_IP": "1000",
        # Builtin stays the default model; a user's "OpenAI" key talks to the local fake.
        "PROVIDER_OPENAI_URL": fake_openai_server.url,
        "MODEL_MAX_RETRIES": "0",
        "MODEL_TIMEOUT_SECONDS": "10",
        "UPLOAD_MAX_BYTES": "2000000",
        # Tests that change a user behind the app's back (SQL) wait this long for it to show.
        "AUTH_CACHE_SECONDS": "1",
    }
    with run_app(data_dir, free_port(), extra) as app:
        yield app


class CeleryProfileApp(RunningApp):
    """The production profile's app, whose backend a test may stop and start again."""

    def __init__(self, backend: AppBackend, data_dir: Path) -> None:
        super().__init__(backend.url, data_dir)
        self.backend = backend


@pytest.fixture(scope="session")
def celery_app(
    postgres: Postgres, redis_server_session: Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryProfileApp]:
    """PostgreSQL, the Redis bus, Redis state and the Celery runner (no worker: these tests
    need none), run from a copy of the project so that its build is its own."""
    from tests.conftest import fresh_pg_database
    from tests.integration.apps import BIN, AppBackend

    folder = tmp_path_factory.mktemp("celery-profile")
    env = {
        "DATABASE_URL": postgres.url(fresh_pg_database(postgres)),
        "REDIS_URL": redis_server_session.url,
        "REFLEX_REDIS_URL": redis_server_session.url,
        "EVENT_BUS": "redis",
        "JOB_RUNNER": "celery",
        "RATE_LIMIT_STORE": "redis",
        "DATA_DIR": str(folder / "data"),
        "SIGNUPS_PER_HOUR_PER_IP": "1000",
    }
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    backend = AppBackend(folder / "app", env, "celery-app")
    try:
        backend.start()
        yield CeleryProfileApp(backend, Path(env["DATA_DIR"]))
    finally:
        backend.stop()


# `playwright` and `browser` are session fixtures in tests/conftest.py: one sync Playwright per
# run, shared with tests/integration (a second one cannot start inside the first one's loop).

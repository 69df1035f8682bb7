"""Turn latency through the real Reflex WebSocket protocol, for N simulated signed-in clients.

    .venv/bin/python -m bench.turns                       # all profiles, N = 1, 20, 100
    .venv/bin/python -m bench.turns --profiles inline --clients 1,20 --turns 3

Profiles (each started here as real processes on free loopback ports, stopped after):
  inline  inline runner + memory bus, SQLite, one `reflex run --env prod` backend
  celery  Celery runner + Redis bus + Redis state, PostgreSQL, 2 workers (2 processes each),
          one backend with 2 granian workers
  echo    a bare Reflex app whose handler echoes the text back: the baseline

Each client signs up over HTTP (the HttpOnly cookie rides on the WebSocket handshake), opens
its own session, then sends `--turns` messages one after another ("help": the builtin agent
streams its guide, no commands). Printed per profile and N: p50/p95/p99 of send -> first
streamed event and send -> done, and turns per second.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import simple_websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import stop_group, wait_until_up  # noqa: E402
from tests.integration.apps import BIN, REFLEX_PROD, AppBackend  # noqa: E402
from tests.services import free_port, postgres_server, redis_server  # noqa: E402

NAMESPACE = "/_event"
CHAT = (
    "reflex___state____state.compymac_rx___state___auth____auth_state"
    ".compymac_rx___state___chat____chat_state"
)
PROMPT = "help"
PASSWORD = "correct horse battery"


@dataclass
class Samples:
    first: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    # perf_counter of each first send and each last done: throughput leaves sign-up out.
    began: list[float] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)


class ReflexSocket:
    """The socket.io-over-WebSocket dialect the Reflex frontend speaks, minimal."""

    def __init__(self, ws: simple_websocket.AioClient) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base: str, cookie: str, path: str) -> ReflexSocket:
        url = (
            base.replace("http", "ws", 1)
            + f"/_event/?EIO=4&transport=websocket&token={uuid.uuid4()}"
        )
        ws = await simple_websocket.AioClient.connect(url, headers={"Cookie": cookie})
        socket = cls(ws)
        opening = await ws.receive(timeout=180)
        assert str(opening).startswith("0"), opening
        boot = event("reflex___state____state.hydrate_and_load", {}, path)
        await ws.send(f"40{NAMESPACE},{json.dumps({'event': boot})}")
        return socket

    async def emit(self, name: str, payload: dict[str, Any], path: str) -> None:
        body = json.dumps(["event", event(name, payload, path)])
        await self.ws.send(f"42{NAMESPACE},{body}")

    async def next_delta(self, timeout: float = 120) -> dict[str, Any]:
        while True:
            frame = await self.ws.receive(timeout=timeout)
            if frame is None:
                raise TimeoutError("no frame from the backend")
            text = str(frame)
            if text == "2":  # engine.io ping
                await self.ws.send("3")
                continue
            prefix = f"42{NAMESPACE},"
            if not text.startswith(prefix):
                continue
            name, data = json.loads(text[len(prefix) :])[:2]
            if name != "event":
                continue
            if isinstance(data, str):
                data = json.loads(data)
            return dict(data.get("delta") or {})

    async def close(self) -> None:
        await self.ws.close()


def event(name: str, payload: dict[str, Any], path: str) -> dict[str, Any]:
    return {"name": name, "payload": payload, "router_data": {"pathname": path, "asPath": path}}


def var(delta: dict[str, Any], state: str, name: str) -> Any:
    return delta.get(state, {}).get(f"{name}_rx_state_")


async def chat_client(base: str, index: int, turns: int, samples: Samples) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        email = f"bench{index}-{secrets.token_hex(4)}@example.com"
        response = await http.post(
            "/auth/signup", data={"email": email, "password": PASSWORD}, headers={"origin": base}
        )
        assert response.status_code == 303, response.text
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    session_id = await asyncio.to_thread(_new_session, cookie)
    path = f"/s/{session_id}"
    socket = await ReflexSocket.open(base, cookie, path)
    while var(await socket.next_delta(), CHAT, "current_id") != session_id:
        pass
    samples.began.append(time.perf_counter())
    for _ in range(turns):
        sent = time.perf_counter()
        await socket.emit(f"{CHAT}.send", {"form": {"message": PROMPT}}, path)
        first = None
        while True:
            delta = await socket.next_delta()
            if first is None and var(delta, CHAT, "live_text"):
                first = time.perf_counter() - sent
            if var(delta, CHAT, "job_status") in ("done", "failed"):
                assert var(delta, CHAT, "job_status") == "done", delta
                break
        samples.first.append(first if first is not None else time.perf_counter() - sent)
        samples.done.append(time.perf_counter() - sent)
    samples.ended.append(time.perf_counter())
    await socket.close()


def _new_session(cookie: str) -> str:
    from compymac_rx.accounts import service as accounts
    from compymac_rx.chats import service as chats

    token = cookie.split("compymac_session=", 1)[1].split(";", 1)[0]
    user = accounts.resolve_user(token)
    assert user is not None
    return chats.create_session(user.id).id


async def echo_client(base: str, index: int, turns: int, samples: Samples) -> None:
    path = "/"
    socket = await ReflexSocket.open(base, "", path)
    state = ""
    while not state:
        delta = await socket.next_delta()
        state = next((k for k in delta if k.endswith("echo_state")), "")
    samples.began.append(time.perf_counter())
    for turn in range(turns):
        text = f"{index}-{turn}"
        sent = time.perf_counter()
        await socket.emit(f"{state}.echo", {"text": text}, path)
        while var(await socket.next_delta(), state, "text") != text:
            pass
        elapsed = time.perf_counter() - sent
        samples.first.append(elapsed)
        samples.done.append(elapsed)
    samples.ended.append(time.perf_counter())
    await socket.close()


async def run_clients(kind: str, base: str, clients: int, turns: int) -> tuple[Samples, float]:
    samples = Samples()
    client = echo_client if kind == "echo" else chat_client
    await asyncio.gather(*(client(base, i, turns, samples) for i in range(clients)))
    return samples, max(samples.ended) - min(samples.began)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


def report(profile: str, clients: int, samples: Samples, wall: float) -> str:
    f, d = samples.first, samples.done
    return (
        f"{profile:7} N={clients:<4} turns={len(d):<4} "
        f"first p50/p95/p99 {pct(f, 50):7.0f} {pct(f, 95):7.0f} {pct(f, 99):7.0f} ms   "
        f"done p50/p95/p99 {pct(d, 50):7.0f} {pct(d, 95):7.0f} {pct(d, 99):7.0f} ms   "
        f"{len(d) / wall:6.1f} turns/s"
    )


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
def echo_app(folder: Path) -> Iterator[str]:
    (folder / "echo_app").mkdir(parents=True)
    (folder / "echo_app" / "__init__.py").write_text("")
    (folder / "echo_app" / "echo_app.py").write_text(ECHO_APP)
    (folder / "rxconfig.py").write_text(
        "import reflex as rx\nconfig = rx.Config(app_name='echo_app', telemetry_enabled=False)\n"
    )
    port = free_port()
    url, log = f"http://localhost:{port}", folder.parent / "echo.log"
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*REFLEX_PROD, str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(f"{url}/ping", process, log, timeout=300)
        yield url
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
def profile(kind: str, base: Path) -> Iterator[str]:
    if kind == "echo":
        with echo_app(base / "echo") as url:
            yield url
        return
    with ExitStack() as stack:
        if kind == "inline":
            env = app_env(base)
        else:
            pg_base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
            pg_base.chmod(0o755)
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
            )
        full = {**os.environ, **env}
        subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=full, check=True)
        os.environ.update(env)  # this process creates the sessions: same database
        if kind == "celery":
            from tests.integration.conftest import WORKER_CMD

            for n in (1, 2):
                log = (base / f"worker{n}.log").open("ab")
                worker = subprocess.Popen(
                    [*WORKER_CMD, "-n", f"bench{n}@%h", "-c", "2"],
                    cwd=ROOT,
                    env=full,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                stack.callback(lambda w=worker: (os.killpg(w.pid, 15), w.wait(30)))
        backend = AppBackend(base / "app", env, "app")
        backend.start()
        stack.callback(backend.stop)
        yield backend.url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", default="echo,inline,celery")
    parser.add_argument("--clients", default="1,20,100")
    parser.add_argument(
        "--turns", type=int, default=0, help="per client (default: 10 for N=1, 3 for more)"
    )
    args = parser.parse_args()
    lines = []
    for kind in args.profiles.split(","):
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp,
            profile(kind, Path(tmp)) as url,
        ):
            from tests.conftest import clear_caches

            clear_caches()
            for n in (int(c) for c in args.clients.split(",")):
                turns = args.turns or (10 if n == 1 else 3)
                samples, wall = asyncio.run(run_clients(kind, url, n, turns))
                line = report(kind, n, samples, wall)
                print(line, flush=True)
                lines.append(line)
    print("\n".join(["", "summary:", *lines]))


if __name__ == "__main__":
    main()

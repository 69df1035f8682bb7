"""The peer users would pick instead: a stock Chainlit 2.12.0 echo app, driven over its protocol.

Installed once into its own venv under the bench cache (idempotent; a marker file says the
install finished), started headless on a free loopback port. The client speaks Chainlit's
Socket.IO protocol (`/ws/socket.io`, see /work/shared/PEERS.md) through the same small client
as the Reflex benchmarks, so both sides pay the same client cost and count the same frames.

Per turn: first = the assistant's `new_message`; done = `task_end` (the input is enabled
again), the same point as CompyMac's `running` going false.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.apps import Running
from bench.wire import SocketIO, ws_url
from tests.e2e.conftest import stop_group, wait_until_up
from tests.services import free_port

VERSION = "2.12.0"
CACHE = Path.home() / ".cache" / "compymac-rx" / "bench"
VENV = CACHE / "chainlit-venv"
APP = """import chainlit as cl


@cl.on_message
async def main(message: cl.Message) -> None:
    await cl.Message(content=message.content).send()
"""


def ensure_venv() -> Path:
    """The chainlit executable, installing chainlit==VERSION first when it is missing."""
    marker = VENV / f".chainlit-{VERSION}-installed"
    executable = VENV / "bin" / "chainlit"
    if marker.exists() and executable.exists():
        return executable
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"bench: installing chainlit=={VERSION} into {VENV} (once, about 2 min)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
    subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "-q", f"chainlit=={VERSION}"],
        check=True,
        timeout=900,
    )
    marker.write_text(VERSION)
    return executable


@contextmanager
def chainlit_app(folder: Path) -> Iterator[Running]:
    executable = ensure_venv()
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(APP)
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", folder.parent / "chainlit.log"
    command = [str(executable), "run", "app.py", "--headless", "--host", "127.0.0.1"]
    # A clean environment: Chainlit reads DATABASE_URL (and more) from it, and the stock app
    # has no persistence.
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(f"{url}/", process, log, timeout=120, what="chainlit")
        yield Running("chainlit", url, [process.pid])
    finally:
        stop_group(process)


class ChainlitTab:
    """One Chainlit browser tab: connected, chat started, ready for messages."""

    def __init__(self, socket: SocketIO) -> None:
        self.socket = socket

    @classmethod
    async def open(cls, base: str) -> ChainlitTab:
        auth = {
            "clientType": "webapp",
            "sessionId": str(uuid.uuid4()),
            "threadId": "",
            "userEnv": "{}",
            "chatProfile": "",
        }
        socket = await SocketIO.connect(
            ws_url(base, "/ws/socket.io/?EIO=4&transport=websocket"), namespace="/", auth=auth
        )
        await socket.emit("connection_successful")
        tab = cls(socket)
        await tab.until("task_end")
        return tab

    async def until(self, name: str, timeout: float = 120) -> list[Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event, args = await self.socket.next_event(left)
            if event == name:
                return args
        raise TimeoutError(f"no {name} within {timeout:.0f} s")

    async def send(self, text: str) -> tuple[float, float]:
        """Send one message; (seconds to the reply, seconds to task_end)."""
        message = {
            "id": str(uuid.uuid4()),
            "threadId": "",
            "name": "User",
            "type": "user_message",
            "output": text,
            "createdAt": datetime.now(UTC).isoformat(),
            "metadata": {},
        }
        sent = time.perf_counter()
        await self.socket.emit("client_message", {"message": message, "fileReferences": []})
        first = 0.0
        deadline = time.monotonic() + 120
        while (left := deadline - time.monotonic()) > 0:
            event, args = await self.socket.next_event(left)
            if event == "new_message" and args and args[0].get("type") == "assistant_message":
                if args[0].get("output") != text:
                    raise AssertionError(f"chainlit echoed {args[0].get('output')!r}")
                first = time.perf_counter() - sent
            elif event == "task_end":
                if not first:
                    raise RuntimeError(f"chainlit ended the turn without a reply: {args}")
                return first, time.perf_counter() - sent
        raise TimeoutError("chainlit turn did not end within 120 s")

    async def close(self) -> None:
        try:
            await self.socket.emit("clear_session")
        finally:
            await self.socket.close()

"""A raw client of Reflex's socket.io-over-WebSocket dialect, for probing the real app.

It speaks what the compiled frontend speaks (engine.io v4 text frames, the `/_event`
namespace, the hydrate event in the CONNECT packet) and keeps every frame it receives as
text, so a test can search all of it, not just the vars it expected.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import simple_websocket

NAMESPACE = "/_event"
FIELD = "_rx_state_"
HYDRATE = "reflex___state____state.hydrate_and_load"
PASSWORD = "correct horse battery"
Closed = simple_websocket.ConnectionClosed


async def sign_up(base: str, email: str) -> str:
    """A new local account; the HttpOnly session cookie, as a Cookie header."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        response = await http.post(
            "/auth/signup", data={"email": email, "password": PASSWORD}, headers={"origin": base}
        )
        assert response.status_code == 303, response.text
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def event(name: Any, payload: Any, path: str) -> dict[str, Any]:
    return {"name": name, "payload": payload, "router_data": {"pathname": path, "asPath": path}}


class ReflexSocket:
    def __init__(self, ws: simple_websocket.AioClient, token: str) -> None:
        self.ws = ws
        self.token = token
        self.frames: list[str] = []
        # The tab's view as the browser would hold it: state name -> var name -> value.
        self.view: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.closed = False

    @classmethod
    async def open(cls, base: str, cookie: str, path: str, token: str = "") -> ReflexSocket:
        token = token or str(uuid.uuid4())
        url = base.replace("http", "ws", 1) + f"/_event/?EIO=4&transport=websocket&token={token}"
        # The app accepts its own origin only, as a browser on the page sends it.
        headers = {"Origin": base, **({"Cookie": cookie} if cookie else {})}
        ws = await simple_websocket.AioClient.connect(url, headers=headers)
        socket = cls(ws, token)
        # The CONNECT goes out before the server's OPEN is read: when the OPEN arrives in
        # the same read as the handshake's answer, simple_websocket only parses it once more
        # data comes (else at the first ping, 25 s later). The server accepts it either way.
        await ws.send(f"40{NAMESPACE},{json.dumps({'event': event(HYDRATE, {}, path)})}")
        opening = await ws.receive(timeout=60)
        assert str(opening).startswith("0"), opening
        return socket

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def emit(self, name: Any, payload: Any, path: str) -> None:
        await self.send_raw(f"42{NAMESPACE},{json.dumps(['event', event(name, payload, path)])}")

    async def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next state update, or None when `timeout` passes with none."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            try:
                frame = await self.ws.receive(timeout=left)
            except simple_websocket.ConnectionClosed:
                self.closed = True
                raise
            if frame is None:
                return None
            text = frame if isinstance(frame, str) else frame.decode(errors="replace")
            self.frames.append(text)
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
            for state, changes in (data.get("delta") or {}).items():
                self.view.setdefault(state, {}).update(changes)
            self.events.extend(data.get("events") or [])
            return dict(data)
        return None

    async def drain(self, quiet: float = 0.4, limit: float = 30) -> None:
        """Read until nothing more arrives for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while loop.time() < deadline and await self.receive(quiet) is not None:
            pass

    async def until(self, state: str, name: str, wanted: Any, timeout: float = 60) -> Any:
        """Read updates until the var `state.name` satisfies `wanted` (a value or predicate)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = self.var(state, name)
            if wanted(value) if callable(wanted) else value == wanted:
                return value
            if loop.time() > deadline:
                raise TimeoutError(f"{state.rsplit('.', 1)[-1]}.{name} stayed {value!r}")
            await self.receive(max(0.1, deadline - loop.time()))

    def var(self, state: str, name: str) -> Any:
        return self.view.get(state, {}).get(name + FIELD)

    def text(self) -> str:
        return "\n".join(self.frames)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.ws.close()

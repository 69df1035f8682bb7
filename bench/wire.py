"""Socket.IO over a raw WebSocket, as the benchmarks speak it to Reflex and to Chainlit.

One small client for every system measured, so the client's own cost is the same on each
side, and every frame received is counted (bytes on the wire per turn).

`TurnWatch` is the only place that knows the chat's variable names: adjust it there when the
app's states change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError

REFLEX_NAMESPACE = "/_event"
SUFFIX = "_rx_state_"


class WebSocket:
    """A minimal WebSocket client: wsproto on asyncio streams, text messages in a queue.

    Not simple_websocket's AioClient: its handshake keeps a frame that arrives in the same read
    as the server's 101 answer unseen until the next frame comes, so a connection could wait
    for the server's next ping (25 s) for its engine.io open packet.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.connection = WSConnection(ConnectionType.CLIENT)
        self.messages: asyncio.Queue[str | None] = asyncio.Queue()
        self._parts: list[str] = []
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str], timeout: float) -> WebSocket:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        socket = cls(reader, writer)
        request = Request(
            host=f"{host}:{port}",
            target=f"{parts.path}?{parts.query}",
            extra_headers=[(k.encode(), v.encode()) for k, v in headers.items()],
        )
        writer.write(socket.connection.send(request))
        accepted = False
        deadline = time.monotonic() + timeout
        while not accepted:
            data = await asyncio.wait_for(reader.read(65536), deadline - time.monotonic())
            if not data:
                raise ConnectionError("closed during the WebSocket handshake")
            socket.connection.receive_data(data)
            for event in socket.connection.events():
                if isinstance(event, AcceptConnection):
                    accepted = True
                elif isinstance(event, RejectConnection):
                    raise ConnectionError(f"WebSocket refused: {event.status_code}")
                elif accepted:  # frames that came in the same read as the answer
                    socket._handle(event)
        socket._task = asyncio.create_task(socket._read())
        return socket

    def _handle(self, event: Event) -> None:
        if isinstance(event, TextMessage | BytesMessage):
            data = event.data if isinstance(event.data, str) else event.data.decode()
            self._parts.append(data)
            if event.message_finished:
                self.messages.put_nowait("".join(self._parts))
                self._parts.clear()
        elif isinstance(event, Ping):
            self.writer.write(self.connection.send(event.response()))
        elif isinstance(event, CloseConnection):
            self.messages.put_nowait(None)

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(65536):
                self.connection.receive_data(data)
                for event in self.connection.events():
                    self._handle(event)
        except (ConnectionError, OSError):
            pass
        self.messages.put_nowait(None)

    async def receive(self, timeout: float) -> str | None:
        """The next message, or None when nothing came in time."""
        try:
            message = await asyncio.wait_for(self.messages.get(), timeout)
        except TimeoutError:
            return None
        if message is None:
            self.messages.put_nowait(None)  # closed stays closed for the next reader too
            raise ConnectionError("the server closed the WebSocket")
        return message

    async def send(self, text: str) -> None:
        self.writer.write(self.connection.send(TextMessage(data=text)))
        await self.writer.drain()

    async def close(self) -> None:
        with contextlib.suppress(LocalProtocolError, ConnectionError, OSError):
            self.writer.write(self.connection.send(CloseConnection(code=1000)))
        if self._task is not None:
            self._task.cancel()
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


class SocketIO:
    """EIO4 + Socket.IO v5 text packets on one namespace, pings answered, frames counted."""

    def __init__(self, ws: WebSocket, namespace: str) -> None:
        self.ws = ws
        self.prefix = "" if namespace == "/" else f"{namespace},"
        self.frames = 0
        self.bytes = 0
        self.last_text = ""
        self.last_at = 0  # time.monotonic_ns() when the last frame arrived

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        namespace: str,
        auth: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> SocketIO:
        ws = await WebSocket.connect(url, headers or {}, timeout)
        socket = cls(ws, namespace)
        opening = await ws.receive(timeout=timeout)
        if not str(opening).startswith("0"):
            raise ConnectionError(f"not an engine.io open packet: {opening!r}")
        payload = json.dumps(auth) if auth is not None else ""
        await ws.send(f"40{socket.prefix}{payload}")
        return socket

    def counters(self) -> tuple[int, int]:
        return self.frames, self.bytes

    async def emit(self, name: str, *args: Any) -> None:
        await self.ws.send(f"42{self.prefix}{json.dumps([name, *args])}")

    async def next_event(self, timeout: float = 120) -> tuple[str, list[Any]]:
        """The next Socket.IO event (name, arguments) on this namespace; a deadline, not a
        per-frame timeout, so a stream of pings cannot keep it waiting forever."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            text = await self.ws.receive(timeout=left)
            if text is None:
                break
            self.last_at = time.monotonic_ns()
            self.frames += 1
            self.bytes += len(text.encode())  # the frame's payload (no WebSocket header)
            self.last_text = text
            if text == "2":  # engine.io ping
                await self.ws.send("3")
            elif text.startswith(f"44{self.prefix}"):
                raise ConnectionError(f"connection refused: {text}")
            elif text.startswith(f"42{self.prefix}"):
                name, *args = json.loads(text[2 + len(self.prefix) :])
                return str(name), args
        raise TimeoutError(f"no event within {timeout:.0f} s")

    async def close(self) -> None:
        await self.ws.close()


def ws_url(base: str, path: str) -> str:
    return base.replace("http", "ws", 1) + path


class ReflexTab:
    """One browser tab of a Reflex app: hydrates `path`, then sends events and reads deltas."""

    def __init__(self, socket: SocketIO, path: str) -> None:
        self.socket = socket
        self.path = path

    @classmethod
    async def open(cls, base: str, cookie: str, path: str, timeout: float = 180) -> ReflexTab:
        url = ws_url(base, f"/_event/?EIO=4&transport=websocket&token={uuid.uuid4()}")
        # The Reflex frontend sends its first event (hydrate, which runs on_load) in the
        # connect packet.
        boot = reflex_event("reflex___state____state.hydrate_and_load", {}, path)
        socket = await SocketIO.connect(
            url,
            namespace=REFLEX_NAMESPACE,
            auth={"event": boot},
            # The app accepts its own origin only (what a browser on the page sends).
            headers={"Origin": base, **({"Cookie": cookie} if cookie else {})},
            timeout=timeout,
        )
        return cls(socket, path)

    async def emit(self, handler: str, payload: dict[str, Any]) -> None:
        await self.socket.emit("event", reflex_event(handler, payload, self.path))

    async def next_delta(self, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            name, args = await self.socket.next_event(left)
            if name != "event" or not args:
                continue
            data = json.loads(args[0]) if isinstance(args[0], str) else args[0]
            return dict(data.get("delta") or {})
        raise TimeoutError(f"no delta within {timeout:.0f} s")

    async def close(self) -> None:
        await self.socket.close()


def reflex_event(name: str, payload: dict[str, Any], path: str) -> dict[str, Any]:
    return {"name": name, "payload": payload, "router_data": {"pathname": path, "asPath": path}}


def delta_vars(delta: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(full state name, var name without Reflex's suffix, value) for every var in a delta."""
    for state, fields in delta.items():
        if not isinstance(fields, dict):
            continue
        for key, value in fields.items():
            yield state, key.removesuffix(SUFFIX), value


def find_var(delta: dict[str, Any], name: str) -> tuple[str, Any] | None:
    """(state, value) of the first var called `name` in any state of the delta."""
    return next(((s, v) for s, n, v in delta_vars(delta) if n == name), None)


# --- what a chat turn looks like in the deltas: the one place to adjust -----------------------

# A var carries streamed content when its name has one of these words and it sits in the live
# turn: a state named `...live_state` (its own substate after the engine rebuild), or a `live_*`
# var of the chat state (before).
CONTENT_WORDS = ("text", "tool", "chunk", "append", "delta", "content", "part", "stream")
LIVE_STATE_SUFFIX = "live_state"
STATUS_VARS = {"job_status", "status"}
TERMINAL = {"done", "failed", "stopped", "cancelled", "interrupted"}
ACTIVE = {"queued", "running", "streaming"}


@dataclass
class TurnWatch:
    """Follows one chat turn through the deltas: when streaming began and when it ended.

    First streamed event: a delta carrying non-empty live content (a var whose name has one of
    CONTENT_WORDS, in a state named `...live_state` or called `live_*`). Done: a status var
    turning terminal, or the `running` var going false after it was true.
    """

    began: bool = False
    status: str = ""

    def streamed(self, delta: dict[str, Any]) -> bool:
        for state, name, value in delta_vars(delta):
            live = state.endswith(LIVE_STATE_SUFFIX) or name.startswith("live_")
            if live and value and any(word in name for word in CONTENT_WORDS):
                return True
        return False

    def finished(self, delta: dict[str, Any]) -> bool:
        """True once the turn is over; `status` then says how ("done" if only `running` said)."""
        ended = False
        for _state, name, value in delta_vars(delta):
            if name in STATUS_VARS and isinstance(value, str):
                if value in ACTIVE:
                    self.began = True
                elif value in TERMINAL:
                    self.status, ended = value, True
            elif name == "running" and isinstance(value, bool):
                if value:
                    self.began = True
                elif self.began:
                    ended = True
        if ended and not self.status:
            self.status = "done"
        return ended

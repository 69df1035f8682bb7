"""A simulated CompyMac user: signs up over HTTP, opens a session tab, sends turns.

Sign-up goes through the real form route (the HttpOnly cookie then rides on the WebSocket
handshake); the session row is created in-process against the same database, as the sidebar's
"New session" would. Everything after that is the public `/_event` protocol.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.apps import PASSWORD
from bench.wire import ReflexTab, TurnWatch, delta_vars, find_var

# The chat state (found in the first delta by this suffix) and its send handler: with
# wire.TurnWatch, the only app names the benchmarks depend on.
CHAT_STATE_SUFFIX = "chat____chat_state"
SEND_HANDLER = "send"


async def sign_up(base: str, tag: str) -> str:
    """A new account; returns its Cookie header."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        email = f"{tag}-{secrets.token_hex(5)}@example.com"
        response = await http.post(
            "/auth/signup", data={"email": email, "password": PASSWORD}, headers={"origin": base}
        )
        if response.status_code != 303:
            raise RuntimeError(f"sign-up answered {response.status_code}: {response.text[:200]}")
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def user_id_of(cookie: str) -> str:
    from compymac_rx.accounts import service as accounts

    token = cookie.split("compymac_session=", 1)[1].split(";", 1)[0]
    user = accounts.resolve_user(token)
    if user is None:
        raise RuntimeError("the bench's cookie resolves to no user")
    return user.id


def new_session(cookie: str, model: str = "builtin") -> str:
    """A session for the cookie's user, on `model` ("" = the user's default)."""
    from compymac_rx.chats import service as chats

    user_id = user_id_of(cookie)
    session_id = chats.create_session(user_id).id
    if model:
        chats.set_session_model(user_id, session_id, model)
    return session_id


@dataclass
class Turn:
    first: float  # seconds from send to the first streamed event
    done: float  # seconds from send to the turn's end
    frames: int  # WebSocket frames received in between
    bytes: int


class ChatTab:
    """One signed-in tab on `/s/<session>`, loaded and ready to send."""

    def __init__(self, tab: ReflexTab, chat_state: str) -> None:
        self.tab = tab
        self.chat_state = chat_state

    @classmethod
    async def open(cls, base: str, cookie: str, session_id: str) -> ChatTab:
        tab = await ReflexTab.open(base, cookie, f"/s/{session_id}")
        chat_state = ""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            delta = await tab.next_delta(deadline - time.monotonic())
            chat_state = chat_state or next(
                (s for s, _n, _v in delta_vars(delta) if s.endswith(CHAT_STATE_SUFFIX)), ""
            )
            if (found := find_var(delta, "current_id")) is not None and found[1] == session_id:
                return cls(tab, chat_state)
        raise TimeoutError(f"session {session_id} did not load")

    async def turn(self, text: str, timeout: float = 300, seen: Any = None) -> Turn:
        """Send `text` and wait for the turn to end. `seen(delta)` is called on every delta."""
        frames, size = self.tab.socket.counters()
        sent = time.perf_counter()
        await self.tab.emit(f"{self.chat_state}.{SEND_HANDLER}", {"form": {"message": text}})
        watch, first = TurnWatch(), 0.0
        deadline = time.monotonic() + timeout
        while True:
            delta = await self.tab.next_delta(deadline - time.monotonic())
            if seen is not None:
                seen(delta)
            if not first and watch.streamed(delta):
                first = time.perf_counter() - sent
            if watch.finished(delta):
                break
            refused = find_var(delta, "notice")
            if refused is not None and refused[1] and not watch.began:
                raise RuntimeError(f"the app refused the message: {refused[1]}")
        done = time.perf_counter() - sent
        if watch.status != "done":
            raise RuntimeError(f"turn ended {watch.status}: {delta}")
        now_frames, now_bytes = self.tab.socket.counters()
        return Turn(first or done, done, now_frames - frames, now_bytes - size)

    async def close(self) -> None:
        await self.tab.close()


async def signed_in_tab(base: str, tag: str, model: str = "builtin") -> ChatTab:
    cookie = await sign_up(base, tag)
    session_id = await asyncio.to_thread(new_session, cookie, model)
    return await ChatTab.open(base, cookie, session_id)

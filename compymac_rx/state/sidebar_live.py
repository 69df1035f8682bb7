"""A user's session changes, made in any tab (or the API), reaching all of that user's tabs.

Like the live turn (state/live.py): every backend process listens to the bus, and hands each
event only to the tabs it holds of that user; per tab, the events that wait are applied
together in one `modify_state`.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from compymac_rx.chats import changes
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import UserEvent
from compymac_rx.state.chat import ChatState
from compymac_rx.state.guard import BindingState
from compymac_rx.state.live import connected_here, hub, user_tabs
from compymac_rx.state.sessions import SessionsState

log = logging.getLogger(__name__)


async def apply_user_events(sessions: SessionsState, events: list[UserEvent]) -> None:
    """Fold the changes into the sidebar; the open session's title follows a rename, and a
    deleted open session says so (and stops following its turn)."""
    owner = (await sessions.get_state(BindingState))._owner
    # Only the owner's tabs are in the map; the check keeps a bug there from leaking a title.
    mine = [event for event in events if owner and event.user_id == owner]
    open_before = sessions.current_id
    deleted = any([sessions._apply_change(event) for event in mine])
    if not open_before:
        return
    chat = await sessions.get_state(ChatState)
    if deleted:
        hub.forget(sessions.router.session.client_token)
        chat.current_id, chat.title, chat.messages, chat.not_found = "", "", [], True
        return
    for event in mine:
        if event.kind == changes.SESSION and event.payload["session"]["id"] == open_before:
            title = str(event.payload["session"]["title"])
            if title != chat.title:
                chat.title = title


class UserDeliveries:
    """Per tab: the user events waiting to be applied, and at most one task applying them."""

    def __init__(self, app: rx.App) -> None:
        self._app = app
        self._pending: dict[str, list[UserEvent]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def add(self, event: UserEvent) -> None:
        for token in user_tabs.tokens_for(event.user_id):
            if user_tabs.is_copy(token, event):
                continue
            self._pending.setdefault(token, []).append(event)
            if token not in self._tasks:
                self._tasks[token] = asyncio.create_task(self._drain(token))

    async def _drain(self, token: str) -> None:
        try:
            while batch := self._pending.pop(token, None):
                if not connected_here(self._app, token):
                    # Offline or gone: a reconnect reloads the page's state (and watches again).
                    user_tabs.forget(token)
                    return
                try:
                    ident = rx.BaseStateToken(ident=token, cls=SessionsState)
                    async with self._app.modify_state(ident) as root:
                        await apply_user_events(await root.get_state(SessionsState), batch)
                except Exception:
                    log.exception("could not apply %d session change(s) to a tab", len(batch))
        finally:
            self._pending.pop(token, None)
            del self._tasks[token]


async def deliver_user_events(app: rx.App) -> None:
    deliveries = UserDeliveries(app)
    async for event in get_bus().subscribe_users():
        deliveries.add(event)

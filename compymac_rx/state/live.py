"""Which tabs in this process watch which session, and the loop that feeds them events.

Events reach a tab in batches: while one batch is being applied to a tab's state, the next
events for that tab collect, and are applied together in one `modify_state`. Tabs do not wait
for each other: each has its own drain task.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import reflex as rx

from compymac_rx.chats.changes import SESSION
from compymac_rx.jobs import metrics
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import JobEvent, UserEvent

log = logging.getLogger(__name__)

Apply = Callable[[Any, list[JobEvent]], Awaitable[None]]


class LiveHub:
    """client token -> session id, for the tabs connected to this process."""

    def __init__(self) -> None:
        self._session_of: dict[str, str] = {}
        self._tokens_of: dict[str, set[str]] = defaultdict(set)
        # The (job, seq) a tab last showed: copies of it and earlier events are dropped here,
        # before they cost the tab a state update that would change nothing.
        self._shown: dict[str, tuple[str, int]] = {}

    def watch(self, token: str, session_id: str) -> None:
        self.forget(token)
        self._session_of[token] = session_id
        self._tokens_of[session_id].add(token)

    def shown(self, token: str, job_id: str, seq: int) -> None:
        if token in self._session_of:
            self._shown[token] = (job_id, seq)

    def is_copy(self, token: str, event: JobEvent) -> bool:
        job_id, seq = self._shown.get(token, ("", -1))
        return event.job_id == job_id and event.seq <= seq

    def forget(self, token: str) -> None:
        self._shown.pop(token, None)
        previous = self._session_of.pop(token, None)
        if previous is not None:
            self._tokens_of[previous].discard(token)
            if not self._tokens_of[previous]:
                del self._tokens_of[previous]

    def tokens_for(self, session_id: str) -> list[str]:
        return list(self._tokens_of.get(session_id, ()))

    def watching(self) -> int:
        return len(self._session_of)


hub = LiveHub()


class UserTabs:
    """client token -> user id, for the workspace tabs connected to this process: where a
    user's sidebar changes go (state/sidebar_live.py)."""

    def __init__(self) -> None:
        self._user_of: dict[str, str] = {}
        self._tokens_of: dict[str, set[str]] = defaultdict(set)
        # The session change a tab shows already (it made it): its announcement is dropped
        # for that tab before it costs a state update that would change nothing.
        self._own: dict[str, tuple[str, str]] = {}

    def watch(self, token: str, user_id: str) -> None:
        self.forget(token)
        self._user_of[token] = user_id
        self._tokens_of[user_id].add(token)

    def shows(self, token: str, session_id: str, activity: datetime) -> None:
        """The tab itself moves `session_id` to the top at `activity` (it sent a message)."""
        if token in self._user_of:
            self._own[token] = (session_id, activity.isoformat())

    def is_copy(self, token: str, event: UserEvent) -> bool:
        own = self._own.get(token)
        if own is None or event.kind != SESSION:
            return False
        row = event.payload.get("session", {})
        return (row.get("id"), row.get("last_activity_at")) == own

    def forget(self, token: str) -> None:
        self._own.pop(token, None)
        previous = self._user_of.pop(token, None)
        if previous is not None:
            self._tokens_of[previous].discard(token)
            if not self._tokens_of[previous]:
                del self._tokens_of[previous]

    def tokens_for(self, user_id: str) -> list[str]:
        return list(self._tokens_of.get(user_id, ()))


user_tabs = UserTabs()


def connected_here(app: rx.App, token: str) -> bool:
    """The tab's socket is open, on this process."""
    namespace = app.event_namespace
    if namespace is None:
        return False
    # A plain dict lookup: `token_to_sid` would rebuild a mapping of every tab.
    manager = namespace._token_manager
    record = manager.token_to_socket.get(token)
    return record is not None and record.instance_id == manager.instance_id


class Deliveries:
    """Per tab: the events waiting to be applied, and at most one task applying them."""

    def __init__(self, app: rx.App, state_cls: type[Any], apply: Apply) -> None:
        self._app, self._state_cls, self._apply = app, state_cls, apply
        self._pending: dict[str, list[JobEvent]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def add(self, event: JobEvent) -> None:
        for token in hub.tokens_for(event.session_id):
            if hub.is_copy(token, event):
                continue
            self._pending.setdefault(token, []).append(event)
            if token not in self._tasks:
                self._tasks[token] = asyncio.create_task(self._drain(token))

    async def _drain(self, token: str) -> None:
        try:
            while batch := self._pending.pop(token, None):
                if not connected_here(self._app, token):
                    hub.forget(token)
                    return
                try:
                    ident = rx.BaseStateToken(ident=token, cls=self._state_cls)
                    async with self._app.modify_state(ident) as root:
                        await self._apply(await root.get_state(self._state_cls), batch)
                    metrics.EVENTS_DELIVERED.inc(len(batch))
                    metrics.DELIVERY_BATCHES.inc()
                except Exception:
                    log.exception("could not deliver %d event(s) to a tab", len(batch))
        finally:
            self._pending.pop(token, None)
            del self._tasks[token]


async def deliver_events(app: rx.App, state_cls: type[Any], apply: Apply) -> None:
    """Apply every bus event to the tabs of this process that watch its session.

    `apply` re-checks the owner before it shows anything: only the owner's tabs can be
    watching, but the check costs nothing and keeps a bug here from leaking a turn.
    """
    namespace = app.event_namespace
    if namespace is not None:
        sockets = namespace._token_manager.token_to_socket
        metrics.CONNECTED_CLIENTS.set_function(lambda: len(sockets))
    deliveries = Deliveries(app, state_cls, apply)
    async for event in get_bus().subscribe():
        deliveries.add(event)

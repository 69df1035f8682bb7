"""Which tabs in this process watch which session, and the loop that feeds them events."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Protocol

import reflex as rx

from compymac_rx.jobs import metrics
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import JobEvent

log = logging.getLogger(__name__)


class EventTarget(Protocol):
    async def deliver(self, event: JobEvent) -> None: ...


class LiveHub:
    """client token -> session id, for the tabs connected to this process."""

    def __init__(self) -> None:
        self._session_of: dict[str, str] = {}
        self._tokens_of: dict[str, set[str]] = defaultdict(set)

    def watch(self, token: str, session_id: str) -> None:
        self.forget(token)
        self._session_of[token] = session_id
        self._tokens_of[session_id].add(token)

    def forget(self, token: str) -> None:
        previous = self._session_of.pop(token, None)
        if previous is not None:
            self._tokens_of[previous].discard(token)
            if not self._tokens_of[previous]:
                del self._tokens_of[previous]

    def tokens_for(self, session_id: str) -> list[str]:
        return list(self._tokens_of.get(session_id, ()))


hub = LiveHub()


async def deliver_events(app: rx.App, state_cls: type[Any]) -> None:
    """Apply every bus event to the tabs of this process that watch its session.

    The state re-checks the owner before it applies anything: only the owner's tabs can be
    watching, but the check costs nothing and keeps a bug here from leaking a turn.
    """
    namespace = app.event_namespace
    if namespace is not None:
        metrics.CONNECTED_CLIENTS.set_function(lambda: len(namespace.token_to_sid))
    async for event in get_bus().subscribe():
        for token in hub.tokens_for(event.session_id):
            if app.event_namespace is None or token not in app.event_namespace.token_to_sid:
                hub.forget(token)
                continue
            try:
                async with app.modify_state(rx.BaseStateToken(ident=token, cls=state_cls)) as root:
                    target: EventTarget = await root.get_state(state_cls)
                    await target.deliver(event)
                metrics.EVENTS_DELIVERED.inc()
            except Exception:
                log.exception("could not deliver an event of job %s", event.job_id)

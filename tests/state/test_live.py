"""The live hub and the per-tab deliveries (state/live.py), without a browser.

`Deliveries` needs three things of Reflex's app: `modify_state` (exclusive access to a tab's
state), and the socket records that say whether a tab is connected here. `TabsApp` provides
those and records every state update, so the tests can count them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from compymac_rx.chats.changes import SESSION, SESSION_DELETED, session_payload
from compymac_rx.chats.models import SessionPublic
from compymac_rx.jobs.events import JobEvent, UserEvent
from compymac_rx.state.live import Deliveries, LiveHub, UserTabs, hub


@dataclass
class Socket:
    instance_id: str


@dataclass
class TokenManager:
    instance_id: str = "this-process"
    token_to_socket: dict[str, Socket] = field(default_factory=dict)


@dataclass
class Namespace:
    _token_manager: TokenManager = field(default_factory=TokenManager)


class Root:
    def __init__(self, token: str) -> None:
        self.token = token

    async def get_state(self, _cls: type[Any]) -> Root:
        return self


class TabsApp:
    """Reflex's app as Deliveries sees it: one lock per tab, like the state manager's."""

    def __init__(self) -> None:
        self.event_namespace = Namespace()
        self._locks: dict[str, asyncio.Lock] = {}
        self.updates: list[str] = []

    def connect(self, *tokens: str, elsewhere: bool = False) -> None:
        manager = self.event_namespace._token_manager
        for token in tokens:
            instance = "another-process" if elsewhere else manager.instance_id
            manager.token_to_socket[token] = Socket(instance)

    @contextlib.asynccontextmanager
    async def modify_state(self, ident: Any) -> AsyncIterator[Root]:
        async with self._locks.setdefault(ident.ident, asyncio.Lock()):
            yield Root(ident.ident)
            self.updates.append(ident.ident)


def event(session: str, seq: int, job: str = "j1", kind: str = "delta") -> JobEvent:
    return JobEvent(job, session, "u1", seq, kind, {"text": str(seq)})


@pytest.fixture(autouse=True)
def fresh_hub() -> None:
    hub.__init__()  # type: ignore[misc]


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_the_hub_maps_tabs_to_sessions_and_forgets_them() -> None:
    tabs = LiveHub()
    tabs.watch("a", "s1")
    tabs.watch("b", "s1")
    tabs.watch("c", "s2")
    assert sorted(tabs.tokens_for("s1")) == ["a", "b"]
    tabs.watch("a", "s2")  # a tab opens another session: it leaves the first
    assert tabs.tokens_for("s1") == ["b"] and sorted(tabs.tokens_for("s2")) == ["a", "c"]
    tabs.forget("b")
    assert tabs.tokens_for("s1") == [] and tabs.watching() == 2


def test_the_hub_knows_what_a_tab_has_shown() -> None:
    tabs = LiveHub()
    tabs.shown("a", "j1", 3)  # not watching: nothing kept
    assert not tabs.is_copy("a", event("s1", 1))
    tabs.watch("a", "s1")
    tabs.shown("a", "j1", 3)
    assert tabs.is_copy("a", event("s1", 3)) and tabs.is_copy("a", event("s1", 1))
    assert not tabs.is_copy("a", event("s1", 4))
    assert not tabs.is_copy("a", event("s1", 1, job="j2"))  # another job starts afresh
    tabs.watch("a", "s1")  # reopened: the mark goes
    assert not tabs.is_copy("a", event("s1", 3))


def test_a_tab_skips_the_announcement_of_the_change_it_shows_itself() -> None:
    tabs = UserTabs()
    sent_at = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    row = SessionPublic("s1", "Notes", False, sent_at)
    announced = UserEvent("u1", SESSION, {"session": session_payload(row)})
    tabs.shows("a", "s1", sent_at)  # not watching: nothing kept
    assert not tabs.is_copy("a", announced)
    tabs.watch("a", "u1")
    tabs.watch("b", "u1")
    tabs.shows("a", "s1", sent_at)
    assert tabs.is_copy("a", announced)
    assert not tabs.is_copy("b", announced)  # the user's other tab applies it
    later = SessionPublic("s1", "Renamed", False, sent_at + timedelta(seconds=1))
    assert not tabs.is_copy("a", UserEvent("u1", SESSION, {"session": session_payload(later)}))
    assert not tabs.is_copy("a", UserEvent("u1", SESSION_DELETED, {"session_id": "s1"}))
    tabs.forget("a")
    assert not tabs.is_copy("a", announced)


async def test_events_collect_while_a_batch_is_applied_and_go_in_one_update() -> None:
    async def scenario() -> tuple[list[list[int]], list[str]]:
        app = TabsApp()
        app.connect("a")
        hub.watch("a", "s1")
        applied: list[list[int]] = []
        release = asyncio.Event()

        async def apply(_state: Any, batch: list[JobEvent]) -> None:
            applied.append([e.seq for e in batch])
            if len(applied) == 1:
                await release.wait()  # the first batch is slow to apply

        deliveries = Deliveries(app, object, apply)  # type: ignore[arg-type]
        deliveries.add(event("s1", 1))
        await settle()
        for seq in (2, 3, 4):
            deliveries.add(event("s1", seq))
        await settle()
        release.set()
        await settle()
        return applied, app.updates

    applied, updates = await scenario()
    assert applied == [[1], [2, 3, 4]]
    assert updates == ["a", "a"]


async def test_a_slow_tab_does_not_hold_up_another() -> None:
    async def scenario() -> list[str]:
        app = TabsApp()
        app.connect("slow", "quick")
        hub.watch("slow", "s1")
        hub.watch("quick", "s1")
        never = asyncio.Event()
        done: list[str] = []

        async def apply(state: Any, _batch: list[JobEvent]) -> None:
            if state.token == "slow":
                await never.wait()
            done.append(state.token)

        deliveries = Deliveries(app, object, apply)  # type: ignore[arg-type]
        deliveries.add(event("s1", 1))
        await settle()
        never.set()  # let the stuck task end before the loop closes
        await settle()
        return done

    done = await scenario()
    assert done[0] == "quick"


async def test_only_connected_watching_tabs_get_events_and_copies_are_dropped() -> None:
    async def scenario() -> dict[str, list[int]]:
        app = TabsApp()
        app.connect("here", "shown")
        app.connect("gone-elsewhere", elsewhere=True)
        for token in ("here", "shown", "gone-elsewhere", "never-connected"):
            hub.watch(token, "s1")
        hub.watch("other-session", "s2")
        app.connect("other-session")
        hub.shown("shown", "j1", 2)
        got: dict[str, list[int]] = {}

        async def apply(state: Any, batch: list[JobEvent]) -> None:
            got.setdefault(state.token, []).extend(e.seq for e in batch)

        deliveries = Deliveries(app, object, apply)  # type: ignore[arg-type]
        for seq in (1, 2, 3):
            deliveries.add(event("s1", seq))
        await settle()
        return got

    got = await scenario()
    assert got == {"here": [1, 2, 3], "shown": [3]}
    # A tab connected to no socket of this process is forgotten: later events skip it.
    assert sorted(hub.tokens_for("s1")) == ["here", "shown"]


async def test_a_failing_update_is_logged_and_the_next_batch_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[list[int]]:
        app = TabsApp()
        app.connect("a")
        hub.watch("a", "s1")
        applied: list[list[int]] = []

        async def apply(_state: Any, batch: list[JobEvent]) -> None:
            applied.append([e.seq for e in batch])
            if batch[0].seq == 1:
                raise RuntimeError("boom")

        deliveries = Deliveries(app, object, apply)  # type: ignore[arg-type]
        deliveries.add(event("s1", 1))
        await settle()
        deliveries.add(event("s1", 2))
        await settle()
        return applied

    assert await scenario() == [[1], [2]]
    assert "could not deliver 1 event(s) to a tab" in caplog.text

"""Session changes are announced to the user's tabs, after the commit, with the row."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from compymac_rx.chats import changes
from compymac_rx.chats import service as chats
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import UserEvent
from tests.factories import make_user, wait_for_job
from tests.waiting import wait_until


class Listener:
    """The in-process bus's user events, collected on a loop of their own."""

    def __init__(self) -> None:
        self.events: list[UserEvent] = []
        self.ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),))

    async def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._listen()

    async def _listen(self) -> None:
        stream = get_bus().subscribe_users()
        first = asyncio.ensure_future(anext(stream))  # subscribes before we say "ready"
        await asyncio.sleep(0)
        self.ready.set()
        self.events.append(await first)
        async for event in stream:
            self.events.append(event)

    def start(self) -> None:
        self._thread.start()
        self.ready.wait(5)

    def stop(self) -> None:
        for task in asyncio.all_tasks(self._loop):
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(5)


@pytest.fixture
def listener() -> Iterator[Listener]:
    heard = Listener()
    heard.start()
    yield heard
    heard.stop()


def test_create_rename_archive_send_and_delete_are_announced(listener: Listener) -> None:
    user = make_user()
    created = chats.create_session(user.id)
    chats.rename_session(user.id, created.id, "  Build   scripts ")
    chats.set_archived(user.id, created.id, True)
    wait_for_job(user.id, chats.send_message(user.id, created.id, "help"))
    chats.delete_session(user.id, created.id)
    wait_until(lambda: len(listener.events) >= 5, timeout=5, what="five events")
    kinds = [e.kind for e in listener.events]
    assert kinds == [changes.SESSION] * 4 + [changes.SESSION_DELETED]
    assert {e.user_id for e in listener.events} == {user.id}
    rows = [changes.session_from_payload(e.payload["session"]) for e in listener.events[:4]]
    assert [(r.id, r.title, r.archived) for r in rows] == [
        (created.id, "New session", False),
        (created.id, "Build scripts", False),
        (created.id, "Build scripts", True),
        # A message unarchives the session and moves it up.
        (created.id, "Build scripts", False),
    ]
    assert rows[3].last_activity_at > rows[0].last_activity_at
    assert listener.events[4].payload == {"session_id": created.id}


def test_the_first_message_announces_the_automatic_title(listener: Listener) -> None:
    user = make_user()
    session = chats.create_session(user.id)
    wait_for_job(user.id, chats.send_message(user.id, session.id, "list the files\nplease"))
    wait_until(lambda: len(listener.events) >= 2, timeout=5, what="two events")
    assert listener.events[1].payload["session"]["title"] == "list the files"


def test_a_refused_change_announces_nothing(listener: Listener) -> None:
    owner, other = make_user(), make_user()
    session = chats.create_session(owner.id)
    wait_until(lambda: len(listener.events) >= 1, timeout=5, what="the creation")
    with pytest.raises(chats.NotFound):
        chats.rename_session(other.id, session.id, "mine now")
    with pytest.raises(chats.NotFound):
        chats.delete_session(other.id, session.id)
    chats.rename_session(owner.id, session.id, "marker")
    wait_until(lambda: len(listener.events) >= 2, timeout=5, what="the marker")
    assert [e.user_id for e in listener.events] == [owner.id, owner.id]

"""chats.repository on both databases: every function that takes a user id filters on it.

Each refusal sits beside its control: the owner, through the same function, does get or change
the row, so a function that did nothing at all would fail here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import Session

from compymac_rx.chats import repository, versions
from compymac_rx.chats import service as chats
from compymac_rx.chats.repository import NewMessage
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository as jobs
from tests.factories import make_user


@dataclass(frozen=True)
class Owned:
    owner: str
    stranger: str
    session_id: str


@pytest.fixture
def owned() -> Owned:
    """Alice's session with two messages; Bob, who owns a session of his own."""
    alice, bob = make_user(), make_user()
    session_id = chats.create_session(alice.id).id
    chats.create_session(bob.id)
    with session_scope() as db:
        repository.append_messages(
            db,
            user_id=alice.id,
            session_id=session_id,
            messages=[NewMessage("user", "hello"), NewMessage("assistant", "hi there")],
            now=utcnow(),
        )
    return Owned(alice.id, bob.id, session_id)


@pytest.fixture
def db() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def test_reads_return_nothing_to_another_user(owned: Owned, db: Session) -> None:
    args = {"session_id": owned.session_id}
    for user_id, sees in ((owned.stranger, False), (owned.owner, True)):
        found = {
            "get_session": repository.get_session(db, user_id=user_id, **args) is not None,
            "list_sessions": owned.session_id
            in [s.id for s in repository.list_sessions(db, user_id=user_id, archived=False)],
            "all_sessions": owned.session_id
            in [s.id for s in repository.all_sessions(db, user_id=user_id)],
            "turn_state": repository.turn_state(db, user_id=user_id, **args) is not None,
            "history": bool(repository.history(db, user_id=user_id, limit=10, **args)),
            "count_messages": repository.count_messages(db, user_id=user_id, **args) == 2,
            "list_messages": bool(repository.list_messages(db, user_id=user_id, limit=10, **args)),
            "all_messages": bool(repository.all_messages(db, user_id=user_id, **args)),
            "last_user_message": repository.last_user_message(db, user_id=user_id, **args)
            is not None,
            "content_size": repository.content_size(db, user_id=user_id) > 0,
        }
        assert found == dict.fromkeys(found, sees), f"user {'owner' if sees else 'stranger'}"


def test_get_message_needs_the_owner_and_the_session(owned: Owned, db: Session) -> None:
    [first, _second] = repository.list_messages(
        db, user_id=owned.owner, session_id=owned.session_id, limit=10
    )
    assert first.id is not None
    args = {"session_id": owned.session_id, "message_id": first.id}
    assert repository.get_message(db, user_id=owned.stranger, **args) is None
    found = repository.get_message(db, user_id=owned.owner, **args)
    assert found is not None and found.content == "hello"


def test_writes_by_another_user_change_nothing(owned: Owned) -> None:
    now = utcnow()
    with session_scope() as db:
        args = {"user_id": owned.stranger, "session_id": owned.session_id}
        assert not repository.lock_session(db, now=now, **args)
        repository.set_title(db, title="taken over", **args)
        versions.unchoose_siblings(db, parent_id=None, **args)
        assert not repository.delete_session(db, **args)
        with pytest.raises(LookupError):
            repository.append_messages(db, messages=[NewMessage("user", "x")], now=now, **args)
    with session_scope() as db:
        args = {"user_id": owned.owner, "session_id": owned.session_id}
        row = repository.get_session(db, **args)
        assert row is not None and row.title != "taken over"
        assert repository.count_messages(db, **args) == 2
        first = repository.last_user_message(db, **args)
        assert first is not None and first.chosen
        # The controls: the same calls by the owner act.
        assert repository.lock_session(db, now=now, **args)
        repository.set_title(db, title="renamed", **args)
        versions.unchoose_siblings(db, parent_id=None, **args)
    with session_scope() as db:
        args = {"user_id": owned.owner, "session_id": owned.session_id}
        row = repository.get_session(db, **args)
        assert row is not None and row.title == "renamed"
        first = repository.last_user_message(db, **args)
        assert first is not None and not first.chosen
        assert repository.delete_session(db, **args)
    with session_scope() as db:
        assert repository.get_session(db, user_id=owned.owner, session_id=owned.session_id) is None


def test_messages_are_numbered_in_order_and_a_job_step_is_stored_once(owned: Owned) -> None:
    now = utcnow()
    args = {"user_id": owned.owner, "session_id": owned.session_id}
    with session_scope() as db:
        job_id = jobs.insert_job(db, now=now, **args)
    step = [NewMessage("tool", "ran", job_step=0), NewMessage("assistant", "done", job_step=1)]
    with session_scope() as db:
        first = repository.append_messages(db, messages=step, job_id=job_id, now=now, **args)
    with session_scope() as db:  # a redelivered job stores the same steps again
        again = repository.append_messages(db, messages=step, job_id=job_id, now=now, **args)
    assert [m.seq for m in first] == [3, 4]
    assert [m.id for m in again] == [m.id for m in first]
    with session_scope() as db:
        assert repository.count_messages(db, **args) == 4
        state = repository.turn_state(db, **args)
        assert state is not None and (state.last_seq, state.job_active) == (4, True)


def test_deleting_a_session_takes_its_messages_and_jobs(owned: Owned) -> None:
    args = {"user_id": owned.owner, "session_id": owned.session_id}
    with session_scope() as db:
        job_id = jobs.insert_job(db, now=utcnow(), **args)
    with session_scope() as db:  # positive control: there is something to take
        assert repository.count_messages(db, **args) == 2
        assert jobs.get_job(db, user_id=owned.owner, job_id=job_id) is not None
        assert repository.delete_session(db, **args)
    with session_scope() as db:
        assert repository.count_messages(db, **args) == 0
        assert jobs.get_job(db, user_id=owned.owner, job_id=job_id) is None


def test_pages_of_messages_before_and_after_a_number(owned: Owned) -> None:
    args = {"user_id": owned.owner, "session_id": owned.session_id}
    with session_scope() as db:
        repository.append_messages(
            db, messages=[NewMessage("user", f"m{n}") for n in range(3, 7)], now=utcnow(), **args
        )
    with session_scope() as db:
        newest = repository.list_messages(db, limit=2, **args)
        assert [m.seq for m in newest] == [5, 6]
        before = repository.list_messages(db, limit=2, before_seq=5, **args)
        assert [m.seq for m in before] == [3, 4]
        after = repository.list_messages(db, limit=2, after_seq=1, **args)
        assert [m.seq for m in after] == [2, 3]
        assert [h.content for h in repository.history(db, limit=2, **args)] == ["m5", "m6"]

"""User B can never reach user A's sessions, messages or jobs through any service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from compymac_rx.chats import service as chats
from tests.factories import make_user, wait_for_job


@pytest.fixture
def owned() -> tuple[str, str, str, str]:
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    session = chats.create_session(alice.id)
    job = chats.send_message(alice.id, session.id, "write secret.txt\nalice's secret")
    wait_for_job(alice.id, job)
    return alice.id, bob.id, session.id, job


ATTEMPTS: dict[str, Callable[[str, str], Any]] = {
    "rename": lambda user, sid: chats.rename_session(user, sid, "mine now"),
    "archive": lambda user, sid: chats.set_archived(user, sid, True),
    "delete": lambda user, sid: chats.delete_session(user, sid),
    "read history": lambda user, sid: chats.load_messages(user, sid),
    "send": lambda user, sid: chats.send_message(user, sid, "ls"),
}


# What the same call does for the owner: the positive control, so a refusal above can never
# be a call that does nothing for anyone.
EFFECTS: dict[str, Callable[[str, str, Any], bool]] = {
    "rename": lambda user, sid, _: getattr(chats.get_session(user, sid), "title", "") == "mine now",
    "archive": lambda user, sid, _: getattr(chats.get_session(user, sid), "archived", False),
    "delete": lambda user, sid, _: chats.get_session(user, sid) is None,
    "read history": lambda user, sid, result: len(result) == 3,
    "send": lambda user, sid, job_id: wait_for_job(user, job_id).status == "done",
}


@pytest.mark.parametrize("action", sorted(ATTEMPTS))
def test_another_user_is_refused(owned: tuple[str, str, str, str], action: str) -> None:
    alice, bob, session_id, _ = owned
    with pytest.raises(chats.NotFound):
        ATTEMPTS[action](bob, session_id)
    found = chats.get_session(alice, session_id)
    assert found is not None and not found.archived and found.title != "mine now"
    assert len(chats.load_messages(alice, session_id)) == 3
    assert EFFECTS[action](alice, session_id, ATTEMPTS[action](alice, session_id))


def test_another_user_sees_nothing(owned: tuple[str, str, str, str]) -> None:
    _, bob, session_id, job = owned
    assert chats.get_session(bob, session_id) is None
    assert chats.list_sessions(bob) == [] and chats.list_sessions(bob, archived=True) == []
    assert chats.get_job(bob, job) is None
    assert chats.active_job(bob, session_id) is None
    assert chats.stop_turn(bob, session_id) is False
    # The control: the same reads give the owner her session and job.
    alice = owned[0]
    assert chats.get_session(alice, session_id) is not None
    assert [s.id for s in chats.list_sessions(alice)] == [session_id]
    found = chats.get_job(alice, job)
    assert found is not None and found.id == job

"""A whole turn's events and database work, on SQLite and PostgreSQL.

The events carry the stored messages (the view needs no read), the text arrives coalesced, and
the turn stays within its budget of transactions and statements.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from compymac_rx.chats import service as chats
from compymac_rx.chats.turns import run_job
from compymac_rx.db import get_engine
from compymac_rx.jobs.events import JobEvent
from compymac_rx.jobs.work import Claim
from tests.factories import make_user, wait_for_job
from tests.integration.checks import finished_events


def all_events(job_id: str) -> list[JobEvent]:
    return finished_events(job_id)


def stored(user_id: str, session_id: str) -> dict[int, dict[str, Any]]:
    return {m.id: dataclasses.asdict(m) for m in chats.load_messages(user_id, session_id)}


def test_a_tool_turn_carries_its_stored_rows_in_its_events() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "write a.txt\nhello")
    assert wait_for_job(user.id, job_id).status == "done"
    events = all_events(job_id)
    assert [e.kind for e in events] == [
        "status",  # queued
        "status",  # running
        "tool_start",
        "tool_end",
        "delta",
        "message",
        "status",  # done
    ]
    rows = stored(user.id, session.id)
    tool_end, message = events[3], events[5]
    assert tool_end.payload["call_id"] == events[2].payload["call_id"]
    assert tool_end.payload["message"] == rows[tool_end.payload["message"]["id"]]
    assert tool_end.payload["message"]["role"] == "tool"
    assert message.payload["message"] == rows[message.payload["message"]["id"]]
    assert message.payload["message"]["role"] == "assistant"
    assert message.payload["message"]["job_id"] == job_id
    assert events[4].payload["text"] == message.payload["message"]["content"]
    assert not any("message_id" in e.payload for e in events)


def test_a_builtin_reply_streams_as_one_delta_then_its_message() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "help")
    assert wait_for_job(user.id, job_id).status == "done"
    events = all_events(job_id)
    assert [e.kind for e in events] == ["status", "status", "delta", "message", "status"]
    assert [e.seq for e in events] == [0, 1, 2, 3, 4]
    reply = events[3].payload["message"]
    assert reply["role"] == "assistant" and reply["content"].startswith("**Commands**")
    assert events[2].payload["text"] == reply["content"]


def test_an_error_row_travels_in_its_event() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "nosuch:model")
    job_id = chats.send_message(user.id, session.id, "hi")
    job = wait_for_job(user.id, job_id)
    assert job.status == "failed"
    events = all_events(job_id)
    [message] = [e for e in events if e.kind == "message"]
    assert message.payload["message"]["role"] == "error"
    assert message.payload["message"]["content"] == job.error
    assert events[-1].payload == {"status": "failed", "error": job.error}


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.transactions = self.statements = 0

    def begin(self, *_args: object) -> None:
        with self._lock:
            self.transactions += 1

    def statement(self, *_args: object) -> None:
        with self._lock:
            self.statements += 1


class HeldRunner:
    """Keeps submitted jobs, so the test runs them on its own thread and counts exactly."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, job_id: str) -> None:
        self.submitted.append(job_id)

    def cancel(self, job_id: str) -> None:
        return None

    def recover(self) -> None:
        return None


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    engine = get_engine()
    event.listen(engine, "begin", recording.begin)
    event.listen(engine, "before_cursor_execute", recording.statement)
    yield recording
    event.remove(engine, "begin", recording.begin)
    event.remove(engine, "before_cursor_execute", recording.statement)


@pytest.mark.parametrize(("text", "budget"), [("help", (1, 2, 11)), ("ls", (1, 3, 14))])
def test_a_turn_stays_within_its_transaction_budget(
    text: str,
    budget: tuple[int, int, int],
    recorder: Recorder,
    db_backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = HeldRunner()
    monkeypatch.setattr(chats, "get_runner", lambda: held)
    user = make_user()
    session = chats.create_session(user.id)
    chats.send_message(user.id, session.id, "help")  # the first one also sets the title
    assert run_job(held.submitted[-1]) is Claim.STARTED
    before = (recorder.transactions, recorder.statements)
    sent = chats.send_turn(user.id, session.id, text)
    send_transactions = recorder.transactions - before[0]
    assert run_job(sent.job_id) is Claim.STARTED
    job_transactions = recorder.transactions - before[0] - send_transactions
    statements = recorder.statements - before[1]
    send_budget, job_budget, statement_budget = budget
    assert send_transactions == send_budget
    assert job_transactions == job_budget
    # PostgreSQL adds the owner's row lock to the claim.
    assert statements <= statement_budget + (1 if db_backend == "postgresql" else 0)
    assert chats.get_job(user.id, sent.job_id).status == "done"  # type: ignore[union-attr]


def test_a_turn_starts_no_thread_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldRunner()
    monkeypatch.setattr(chats, "get_runner", lambda: held)
    user = make_user()
    session = chats.create_session(user.id)
    chats.send_message(user.id, session.id, "help")
    run_job(held.submitted[-1])  # the process's shared scheduler threads may start here
    started: list[str] = []
    original = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        original(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    for text in ("help", "ls", "run echo hi"):
        assert run_job(chats.send_turn(user.id, session.id, text).job_id) is Claim.STARTED
    assert started == []  # no pacing, heartbeat or flush-timer thread per turn

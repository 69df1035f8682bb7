"""Heartbeats, the reaper and resumed runs, on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from compymac_rx.chats import repository as chat_rows
from compymac_rx.chats import service as chats
from compymac_rx.chats.turns import run_job
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.models import Job
from compymac_rx.jobs.reaper import reap_stale_jobs
from compymac_rx.jobs.work import Claim
from tests.factories import make_user, wait_for_job


def stuck_job(*, attempts: int, silent_for: float = 120) -> tuple[str, str]:
    """A job a dead worker left 'running' (its heartbeat long ago); returns (user, job)."""
    user = make_user()
    session = chats.create_session(user.id)
    now = utcnow()
    with session_scope() as db:
        chat_rows.add_message(
            db, user_id=user.id, session_id=session.id, role="user", content="help", now=now
        )
        job = repository.add_job(db, user_id=user.id, session_id=session.id, now=now)
        job.status, job.attempts = "running", attempts
        job.heartbeat_at = now - timedelta(seconds=silent_for)
        db.add(job)
        return user.id, job.id


def test_the_reaper_retries_a_silent_job_once_and_then_fails_it() -> None:
    user_id, job_id = stuck_job(attempts=1)
    resubmitted: list[str] = []
    assert reap_stale_jobs(resubmit=resubmitted.append) == [job_id]
    assert resubmitted == [job_id]
    assert chats.get_job(user_id, job_id).status == "queued"  # type: ignore[union-attr]
    assert reap_stale_jobs(resubmit=resubmitted.append) == []  # nothing silent now

    _, failing = stuck_job(attempts=2)
    assert reap_stale_jobs(resubmit=resubmitted.append) == [failing]
    assert resubmitted == [job_id]
    events = get_bus().replay(failing)
    assert events[-1].payload["status"] == "failed"
    assert "stopped responding" in events[-1].payload["error"]


def test_a_live_job_is_left_alone_and_a_second_claim_is_refused() -> None:
    _, job_id = stuck_job(attempts=1, silent_for=1)
    assert reap_stale_jobs(resubmit=lambda _: None) == []
    assert run_job(job_id) == Claim.BUSY  # its worker is alive: no second run
    # The control: beside it, a job silent for longer is reaped, and only that one.
    _, silent = stuck_job(attempts=1)
    assert reap_stale_jobs(resubmit=lambda _: None) == [silent]


def test_a_redelivered_job_resumes_after_its_stored_steps() -> None:
    user_id, job_id = stuck_job(attempts=1)
    assert run_job(job_id) == Claim.STARTED
    job = chats.get_job(user_id, job_id)
    assert job is not None and job.status == "done"
    with session_scope() as db:
        stored = db.get(Job, job_id)
        assert stored is not None and stored.attempts == 2
    # Run again (a late duplicate message): nothing more is stored.
    before = len(chats.load_messages(user_id, stored.session_id))
    assert run_job(job_id) == Claim.GONE
    assert len(chats.load_messages(user_id, stored.session_id)) == before


def test_a_turn_whose_reply_was_stored_before_the_crash_is_just_closed() -> None:
    user_id, job_id = stuck_job(attempts=1)
    with session_scope() as db:
        job = db.get(Job, job_id)
        assert job is not None
        chat_rows.add_message(
            db,
            user_id=user_id,
            session_id=job.session_id,
            role="assistant",
            content="the reply",
            job_id=job_id,
            job_step=1,
            now=utcnow(),
        )
        session_id = job.session_id
    assert run_job(job_id) == Claim.STARTED
    assert chats.get_job(user_id, job_id).status == "done"  # type: ignore[union-attr]
    assert [m.content for m in chats.load_messages(user_id, session_id)] == ["help", "the reply"]


def test_the_inline_runner_keeps_a_user_within_the_running_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOBS_PER_USER", "1")
    monkeypatch.setenv("BUILTIN_STREAM_DELAY_MS", "20")
    user = make_user()
    jobs = [chats.send_message(user.id, chats.create_session(user.id).id, "help") for _ in range(3)]
    most = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        statuses = [chats.get_job(user.id, j).status for j in jobs]  # type: ignore[union-attr]
        most = max(most, statuses.count("running"))
        if all(s == "done" for s in statuses):
            break
        time.sleep(0.01)
    assert most == 1
    for job_id in jobs:
        assert wait_for_job(user.id, job_id).status == "done"

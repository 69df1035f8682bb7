"""jobs.repository on both databases: owner scoping, the claim and its limits, the line.

The running limit is per owner (JOBS_PER_USER, checked inside claim_job's UPDATE). There is no
global limit in the repository: how many turns run at once overall is the workers' pool size
(INLINE_JOB_WORKERS, or Celery's concurrency times workers), tested in tests/integration.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from compymac_rx.chats import repository as chats_repository
from compymac_rx.chats import service as chats
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.models import JobStatus
from tests.factories import make_user

STALE = timedelta(seconds=30)


def queued_job(user_id: str, session_id: str | None = None, at: datetime | None = None) -> str:
    session_id = session_id or chats.create_session(user_id).id
    with session_scope() as db:
        return repository.insert_job(db, user_id=user_id, session_id=session_id, now=at or utcnow())


def claim(job_id: str, user_id: str, *, limit: int = 1, now: datetime | None = None) -> int | None:
    now = now or utcnow()
    with session_scope() as db:
        return repository.claim_job(
            db, job_id=job_id, user_id=user_id, limit=limit, now=now, stale_before=now - STALE
        )


def status(job_id: str) -> str | None:
    with session_scope() as db:
        return repository.job_status(db, job_id=job_id)


def test_a_queued_job_is_claimed_once() -> None:
    user = make_user()
    job_id = queued_job(user.id)
    assert claim(job_id, user.id) == 1
    assert status(job_id) == "running"
    assert claim(job_id, user.id, limit=5) is None  # running and alive: another worker has it


def test_the_owners_running_limit_holds_and_frees_when_a_turn_ends() -> None:
    user = make_user()
    first, second, third = (queued_job(user.id) for _ in range(3))
    assert claim(first, user.id, limit=2) == 1
    assert claim(second, user.id, limit=2) == 1
    assert claim(third, user.id, limit=2) is None  # two others run: over the limit
    assert status(third) == "queued"
    with session_scope() as db:
        ended = repository.finish(db, job_id=first, status=JobStatus.DONE, error=None, now=utcnow())
    assert ended is not None and ended.user_id == user.id
    assert claim(third, user.id, limit=2) == 1


def test_one_users_running_turns_do_not_hold_back_another_user() -> None:
    alice, bob = make_user(), make_user()
    assert claim(queued_job(alice.id), alice.id) == 1
    assert claim(queued_job(alice.id), alice.id) is None  # the control: alice is at her limit
    assert claim(queued_job(bob.id), bob.id) == 1


def test_a_silent_running_job_is_claimed_again_with_its_attempts_counted() -> None:
    user = make_user()
    job_id = queued_job(user.id)
    long_ago = utcnow() - timedelta(minutes=5)
    assert claim(job_id, user.id, now=long_ago) == 1
    # Its heartbeat is five minutes old: the worker died; the next claim takes it over.
    assert claim(job_id, user.id) == 2
    with session_scope() as db:
        job = repository.get_job(db, user_id=user.id, job_id=job_id)
        assert job is not None and job.started_at == long_ago.replace(tzinfo=job.started_at.tzinfo)


def test_requeue_stale_takes_only_silent_jobs_and_only_once() -> None:
    user = make_user()
    silent, alive = queued_job(user.id), queued_job(user.id)
    assert claim(silent, user.id, limit=2, now=utcnow() - timedelta(minutes=5)) == 1
    assert claim(alive, user.id, limit=2) == 1
    stale_before = utcnow() - STALE
    with session_scope() as db:
        assert [j.id for j in repository.stale_jobs(db, stale_before=stale_before)] == [silent]
        assert not repository.requeue_stale(db, job_id=alive, stale_before=stale_before)
        assert repository.requeue_stale(db, job_id=silent, stale_before=stale_before)
    with session_scope() as db:
        assert not repository.requeue_stale(db, job_id=silent, stale_before=stale_before)
    assert (status(silent), status(alive)) == ("queued", "running")


def test_a_finished_job_keeps_its_first_final_status() -> None:
    user = make_user()
    job_id = queued_job(user.id)
    with session_scope() as db:
        done = repository.finish(db, job_id=job_id, status=JobStatus.DONE, error=None, now=utcnow())
        assert done is not None
        again = repository.finish(
            db, job_id=job_id, status=JobStatus.FAILED, error="late", now=utcnow()
        )
        assert again is None
    assert status(job_id) == "done"
    assert claim(job_id, user.id, limit=5) is None  # a finished job never runs again


def test_the_queue_position_counts_the_owners_earlier_waiting_jobs_only() -> None:
    alice, bob = make_user(), make_user()
    start = utcnow()
    jobs = [queued_job(alice.id, at=start + timedelta(seconds=n)) for n in range(3)]
    queued_job(bob.id, at=start - timedelta(seconds=10))  # earlier, but someone else's
    with session_scope() as db:
        rows = [repository.get_job(db, user_id=alice.id, job_id=j) for j in jobs]
        assert [repository.queue_position(db, user_id=alice.id, job=r) for r in rows if r] == [
            1,
            2,
            3,
        ]
    assert claim(jobs[0], alice.id) == 1  # a running job no longer waits in line
    with session_scope() as db:
        row = repository.get_job(db, user_id=alice.id, job_id=jobs[2])
        assert row is not None and repository.queue_position(db, user_id=alice.id, job=row) == 2


def test_another_user_can_neither_read_nor_cancel_a_job() -> None:
    alice, bob = make_user(), make_user()
    session_id = chats.create_session(alice.id).id
    job_id = queued_job(alice.id, session_id)
    with session_scope() as db:
        assert repository.get_job(db, user_id=bob.id, job_id=job_id) is None
        assert repository.active_job(db, user_id=bob.id, session_id=session_id) is None
        assert not repository.request_cancel(db, user_id=bob.id, job_id=job_id)
    with session_scope() as db:
        assert not repository.cancels_requested(db, job_ids=[job_id])
        # The control: the owner reads it and can cancel it.
        active = repository.active_job(db, user_id=alice.id, session_id=session_id)
        assert active is not None and active.id == job_id
        assert repository.request_cancel(db, user_id=alice.id, job_id=job_id)
    with session_scope() as db:
        assert repository.cancels_requested(db, job_ids=[job_id]) == {job_id}


def test_a_job_that_is_gone_counts_as_cancelled() -> None:
    with session_scope() as db:
        assert repository.cancels_requested(db, job_ids=["no-such-job"]) == {"no-such-job"}
        assert chats_repository.claim_context(db, job_id="no-such-job") is None


def test_the_claim_context_carries_the_session_and_the_owners_default_model() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")
    job_id = queued_job(user.id, session.id)
    with session_scope() as db:
        context = chats_repository.claim_context(db, job_id=job_id)
    assert context is not None
    assert (context.job.user_id, context.job.session_id) == (user.id, session.id)
    assert (context.status, context.cancel_requested, context.steps_done) == ("queued", False, 0)
    assert context.session_model == "openai:fake-small"
    assert context.workspace.endswith(session.id)

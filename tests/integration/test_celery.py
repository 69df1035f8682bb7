"""Turns on real Celery workers, PostgreSQL and Redis."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from compymac_rx.accounts import selfservice
from compymac_rx.chats import service as chats
from compymac_rx.db import session_scope
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.models import Job
from tests.factories import make_user, wait_for_job
from tests.integration.checks import assert_events_gapless, assert_turn_intact
from tests.integration.conftest import StartWorker
from tests.waiting import stays_true, wait_until


def job_status(job_id: str) -> str | None:
    with session_scope() as db:
        job = db.get(Job, job_id)
        return None if job is None else job.status


def wait_status(job_id: str, status: str, timeout: float = 20) -> None:
    wait_until(lambda: job_status(job_id) == status, timeout=timeout, what=f"{job_id} {status}")


def told_its_place(job_id: str) -> bool:
    """A worker tried the job and put it back in line (it publishes the queue position)."""
    events = get_bus().replay(job_id, after_seq=-1)
    return any(e.payload.get("status") == "queued" and "position" in e.payload for e in events)


def test_a_turn_runs_on_a_worker(start_worker: StartWorker) -> None:
    start_worker()
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "run echo from-the-worker")
    assert wait_for_job(user.id, job_id, timeout=30).status == "done"
    rows = assert_turn_intact(job_id)
    assert any("from-the-worker" in m.content for m in rows if m.role == "tool")
    assert_events_gapless(job_id)
    with session_scope() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.attempts == 1 and job.heartbeat_at is not None


def test_a_user_runs_at_most_the_limit_and_waiting_turns_show_their_place(
    start_worker: StartWorker,
) -> None:
    start_worker(concurrency=4, JOBS_PER_USER="1", BUILTIN_STREAM_DELAY_MS="40")
    user = make_user()
    sessions = [chats.create_session(user.id) for _ in range(3)]
    jobs = [chats.send_message(user.id, s.id, "help") for s in sessions]
    most_running = 0

    def all_done() -> bool:
        nonlocal most_running
        statuses = [job_status(j) for j in jobs]
        most_running = max(most_running, statuses.count("running"))
        return all(s == "done" for s in statuses)

    wait_until(all_done, timeout=60, what="all three turns done")
    assert most_running == 1
    for job_id in jobs:
        assert_turn_intact(job_id)
    positions = {
        e.payload.get("position")
        for j in jobs
        for e in get_bus().replay(j, after_seq=-1)
        if e.payload.get("status") == "queued"
    }
    assert {1, 2} <= positions


def test_stop_ends_a_running_turn_and_a_waiting_one(start_worker: StartWorker) -> None:
    start_worker(JOBS_PER_USER="1", BUILTIN_STREAM_DELAY_MS="200")
    user = make_user()
    first, second = chats.create_session(user.id), chats.create_session(user.id)
    running = chats.send_message(user.id, first.id, "help")
    wait_status(running, "running")
    waiting = chats.send_message(user.id, second.id, "help")
    # Not a guess at how long a worker takes: it tried the turn and refused it (limit 1).
    wait_until(lambda: told_its_place(waiting), timeout=20, what="the worker refused it")
    assert job_status(waiting) == "queued"
    assert chats.stop_turn(user.id, second.id)
    assert wait_for_job(user.id, waiting).status == "cancelled"
    assert chats.stop_turn(user.id, first.id)
    assert wait_for_job(user.id, running, timeout=30).status == "cancelled"
    # Imported here, not at the top: importing celery_app builds the Celery app from the
    # settings of that moment (a broker URL before the fixtures set one).
    from compymac_rx.jobs.celery_app import WAIT_COUNTDOWN

    # The revoked waiting turn must not start later on: watched over one and a half of the
    # worker's retry intervals for a refused turn, so a retry that was already due comes by.
    stays_true(lambda: job_status(waiting) == "cancelled", seconds=WAIT_COUNTDOWN * 1.5)


def test_a_turn_over_the_time_limit_fails_clearly(start_worker: StartWorker) -> None:
    start_worker(JOB_TIME_LIMIT_SECONDS="1", BUILTIN_STREAM_DELAY_MS="200")
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "help")
    job = wait_for_job(user.id, job_id, timeout=30)
    assert job.status == "failed"
    assert job.error == "The turn hit the time limit (1 s)."


def returns_within(seconds: float, fn: Callable[..., object], *args: object) -> None:
    """Call fn on a daemon thread: one that hangs fails the test instead of hanging it."""
    done, errors = threading.Event(), list[BaseException]()

    def run() -> None:
        try:
            fn(*args)
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(seconds), f"{getattr(fn, '__name__', fn)} did not return in {seconds} s"
    if errors:
        raise errors[0]


def test_deleting_sessions_with_a_waiting_and_a_running_turn_ends_both(
    start_worker: StartWorker,
) -> None:
    # One worker process, and "help" paced to about 25 s: the third turn below can start only
    # once the deleted one has let go of it.
    start_worker(concurrency=1, JOBS_PER_USER="1", BUILTIN_STREAM_DELAY_MS="1000")
    user = make_user()
    first, second = chats.create_session(user.id), chats.create_session(user.id)
    running = chats.send_message(user.id, first.id, "help")
    wait_status(running, "running")
    waiting = chats.send_message(user.id, second.id, "help")
    # Once the cancel waited on the delete's own lock of the job row: it never returned.
    returns_within(20, chats.delete_session, user.id, second.id)
    returns_within(20, chats.delete_session, user.id, first.id)
    with session_scope() as db:
        assert db.get(Job, running) is None and db.get(Job, waiting) is None
    assert [s.id for s in chats.list_sessions(user.id)] == []
    # The worker let go of the running turn: the user's next turn (limit 1) starts and ends.
    third = chats.create_session(user.id)
    started = time.monotonic()
    job_id = chats.send_message(user.id, third.id, "run echo after-the-delete")
    assert wait_for_job(user.id, job_id, timeout=30).status == "done"
    assert time.monotonic() - started < 15  # well before the deleted "help" would have ended


def test_deleting_an_account_with_a_waiting_and_a_running_turn_ends_both(
    start_worker: StartWorker,
) -> None:
    start_worker(concurrency=1, JOBS_PER_USER="1", BUILTIN_STREAM_DELAY_MS="1000")
    make_user()  # the first account is the admin, which may not delete itself
    user = make_user()
    first, second = chats.create_session(user.id), chats.create_session(user.id)
    running = chats.send_message(user.id, first.id, "help")
    wait_status(running, "running")
    waiting = chats.send_message(user.id, second.id, "help")
    # The cancel of the waiting turn writes its row on another connection: inside the
    # deletion's transaction it would wait for that transaction's own lock.
    delete = functools.partial(
        selfservice.remove_account, actor_id=user.id, action="account.delete"
    )
    returns_within(20, delete, user.id)
    with session_scope() as db:
        assert db.get(Job, running) is None and db.get(Job, waiting) is None
    # The worker let go of the running turn: another user's turn starts on it at once.
    other = make_user()
    job_id = chats.send_message(other.id, chats.create_session(other.id).id, "run echo next")
    started = time.monotonic()
    assert wait_for_job(other.id, job_id, timeout=30).status == "done"
    assert time.monotonic() - started < 15

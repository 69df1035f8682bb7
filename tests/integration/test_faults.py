"""Single faults during a turn on the production profile; the database is checked after each."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from compymac_rx.chats import service as chats
from compymac_rx.db import session_scope
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.models import Job
from tests.factories import make_user, wait_for_job
from tests.integration.checks import assert_events_gapless, assert_turn_intact
from tests.integration.conftest import StartWorker
from tests.services import Redis

SLOW = {"BUILTIN_STREAM_DELAY_MS": "150"}


def wait_for_deltas(job_id: str, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for e in get_bus().replay(job_id) if e.kind == "delta") >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} streamed fewer than {count} deltas")


@pytest.mark.parametrize("victim", ["whole worker", "pool process"])
def test_kill_9_of_a_worker_mid_turn_is_retried_without_duplicates(
    start_worker: StartWorker, victim: str
) -> None:
    first = start_worker("w1", concurrency=1, **SLOW)
    user = make_user()
    session = chats.create_session(user.id)
    # A tool step is stored first; the kill lands while its summary streams.
    job_id = chats.send_message(user.id, session.id, "run seq 1 80")
    wait_for_deltas(job_id, 3)
    if victim == "whole worker":
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        start_worker("w2", concurrency=1, **SLOW)
    else:
        children = psutil.Process(first.pid).children()
        assert children, "the prefork pool has no child"
        for child in children:
            os.kill(child.pid, signal.SIGKILL)
    job = wait_for_job(user.id, job_id, timeout=60)
    assert job.status == "done", job.error
    rows = assert_turn_intact(job_id)
    assert [m.role for m in rows] == ["user", "tool", "assistant"]
    assert_events_gapless(job_id)
    with session_scope() as db:
        stored = db.get(Job, job_id)
        assert stored is not None and stored.attempts == 2
    retry = [e for e in get_bus().replay(job_id) if e.payload.get("retry")]
    assert len(retry) == 1  # the tabs were told to drop the half-streamed step


def test_a_worker_that_never_comes_back_ends_in_a_clear_failure(
    start_worker: StartWorker,
) -> None:
    first = start_worker("w1", concurrency=1, JOB_MAX_ATTEMPTS="1", **SLOW)
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "help")
    wait_for_deltas(job_id, 2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    start_worker("w2", concurrency=1, JOB_MAX_ATTEMPTS="1", **SLOW)  # only its reaper acts
    job = wait_for_job(user.id, job_id, timeout=30)
    assert job.status == "failed"
    assert job.error is not None and "stopped responding" in job.error


def test_a_redis_restart_mid_turn_loses_no_message(start_worker: StartWorker, redis: Redis) -> None:
    start_worker("w1", concurrency=1, **SLOW)
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "run seq 1 80")
    wait_for_deltas(job_id, 3)
    redis.restart()
    job = wait_for_job(user.id, job_id, timeout=60)
    assert job.status == "done", job.error
    rows = assert_turn_intact(job_id)
    assert [m.role for m in rows] == ["user", "tool", "assistant"]
    # What was published after the restart is kept and numbered on from before it.
    after = get_bus().replay(job_id)
    assert after and after[0].seq > 3
    assert [e.seq for e in after] == list(range(after[0].seq, after[0].seq + len(after)))
    # And the next turn on the restarted Redis works as usual.
    second = chats.send_message(user.id, session.id, "run echo again")
    assert wait_for_job(user.id, second, timeout=60).status == "done"
    assert_turn_intact(second, user_messages=2)

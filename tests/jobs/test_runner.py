"""The inline runner when a run raises before it could store an outcome."""

from __future__ import annotations

import sqlite3

import pytest

from compymac_rx.chats import service as chats
from compymac_rx.chats.tasks import TURNS
from compymac_rx.chats.turns import run_job
from compymac_rx.jobs import runner
from compymac_rx.jobs.work import Claim
from tests.factories import make_user, wait_for_job


def crashing(times: int, runs: list[str]) -> object:
    """run_job that raises the first `times` calls, then runs the job for real."""

    def run(job_id: str) -> Claim:
        runs.append(job_id)
        if len(runs) <= times:
            raise sqlite3.OperationalError("database is locked")
        return run_job(job_id)

    return run


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "RETRY_WAITING_SECONDS", 0.05)


def test_a_run_that_crashes_once_is_tried_again_and_finishes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[str] = []
    monkeypatch.setattr(TURNS, "run", crashing(1, runs))
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "help")
    assert wait_for_job(user.id, job_id).status == "done"
    assert runs == [job_id, job_id]


def test_a_run_that_keeps_crashing_fails_with_a_message_instead_of_staying_queued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[str] = []
    monkeypatch.setattr(TURNS, "run", crashing(100, runs))
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "help")
    job = wait_for_job(user.id, job_id)
    assert (job.status, job.error) == ("failed", "The turn could not run; try again.")
    assert runs == [job_id] * runner.CRASH_RETRIES

"""A turn that hits a bug: the user reads a sentence, the log keeps the traceback."""

from __future__ import annotations

import logging

import pytest

from compymac_rx.chats import service as chats
from compymac_rx.chats import turns
from compymac_rx.jobs.work import Claim
from tests.factories import make_user
from tests.jobs.test_turn_events import HeldRunner


def test_a_bug_in_a_turn_fails_it_with_a_plain_sentence_and_logs_the_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(chats, "get_runner", HeldRunner)  # the test runs the job itself
    user = make_user()
    session = chats.create_session(user.id)
    # Control: the same turn, run the same way, ends well when nothing breaks.
    fine = chats.send_turn(user.id, session.id, "help").job_id
    assert turns.run_job(fine) is Claim.STARTED
    assert chats.get_job(user.id, fine).status == "done"  # type: ignore[union-attr]

    def broken(**_kwargs: object) -> str:
        raise KeyError("tool_calls")

    monkeypatch.setattr(turns, "run_turn", broken)
    job_id = chats.send_turn(user.id, session.id, "help").job_id
    with caplog.at_level(logging.ERROR, logger=turns.__name__):
        assert turns.run_job(job_id) is Claim.STARTED
    job = chats.get_job(user.id, job_id)
    assert job is not None
    assert (job.status, job.error) == ("failed", turns.INTERNAL_ERROR)
    assert "KeyError" not in turns.INTERNAL_ERROR
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info[0] is KeyError  # type: ignore[index]

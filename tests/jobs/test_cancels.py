"""jobs.cancels: the stop flags of every running job, read in one statement per poll."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from sqlmodel import Session

from compymac_rx.db import session_scope
from compymac_rx.jobs import repository
from compymac_rx.jobs.cancels import CancelFlags
from tests.factories import make_user
from tests.jobs.test_repository import queued_job


def test_each_job_sees_only_its_own_stop_and_all_are_read_in_one_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob = make_user(), make_user()
    jobs = [queued_job(alice.id), queued_job(alice.id), queued_job(bob.id)]
    flags = CancelFlags(poll_seconds=0.05)
    polled: list[list[str]] = []
    read = repository.cancels_requested

    def counted(session: Session, *, job_ids: Sequence[str]) -> set[str]:
        polled.append(sorted(job_ids))
        return read(session, job_ids=job_ids)

    monkeypatch.setattr(repository, "cancels_requested", counted)
    with (
        flags.watching(jobs[0]) as first,
        flags.watching(jobs[1]) as second,
        flags.watching(jobs[2]) as third,
    ):
        waited = time.monotonic() + 10
        while len(polled) < 3 and time.monotonic() < waited:
            time.sleep(0.02)
        assert not (first.is_set() or second.is_set() or third.is_set())  # the control
        polls = list(polled)
        with session_scope() as db:
            assert repository.request_cancel(db, user_id=alice.id, job_id=jobs[1])
        assert second.wait(5)
        time.sleep(0.1)
        assert not first.is_set() and not third.is_set()
    # Each poll is one statement that reads all three jobs.
    assert len(polls) >= 3 and all(ids == sorted(jobs) for ids in polls), polls


def test_a_flag_read_at_the_claim_is_set_at_once_and_a_finished_job_is_no_longer_read() -> None:
    user = make_user()
    job_id = queued_job(user.id)
    flags = CancelFlags(poll_seconds=0.05)
    with flags.watching(job_id, requested=True) as flag:
        assert flag.is_set()
    with session_scope() as db:
        assert repository.request_cancel(db, user_id=user.id, job_id=job_id)
    later = CancelFlags(poll_seconds=0.05)
    with later.watching(job_id) as watched:
        assert watched.wait(5)
    # Nothing watched: the poller waits without querying.
    assert later._flags == {}


@pytest.mark.parametrize("gone", ["no-such-job"])
def test_a_job_that_is_gone_counts_as_stopped(gone: str) -> None:
    flags = CancelFlags(poll_seconds=0.05)
    with flags.watching(gone) as flag:
        assert flag.wait(5)

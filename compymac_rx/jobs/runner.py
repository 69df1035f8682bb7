"""JobRunner: where jobs run. Threads in the web process, or Celery workers.

A runner is given the work its jobs do (jobs/work.py); it knows nothing of what that is."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.models import JobStatus
from compymac_rx.jobs.scheduler import Scheduler
from compymac_rx.jobs.service import fail_and_publish, finish_job
from compymac_rx.jobs.work import Claim, JobWork
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

RETRY_WAITING_SECONDS = 1.0
# A job whose run raised before it could store an outcome (its database unreachable, say) is
# tried again this many times, then failed with a message: never left queued for good.
CRASH_RETRIES = 3
RETRIES = Scheduler("job-retry")  # one thread for every waiting job's next try


class JobRunner(Protocol):
    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> None:
        """Stop a job beyond the cooperative flag the agent loop already checks."""
        ...

    def recover(self) -> None:
        """At start-up: deal with jobs a previous process left behind."""
        ...


class InlineJobRunner:
    """Runs jobs on a thread pool inside the web process (the embedded default)."""

    def __init__(self, work: JobWork, *, workers: int) -> None:
        self._work = work
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent-job")
        self._closed = False
        self._crashes: dict[str, int] = {}

    def submit(self, job_id: str) -> None:
        if not self._closed:
            self._pool.submit(self._work.run, job_id).add_done_callback(
                functools.partial(self._after, job_id)
            )

    def _after(self, job_id: str, future: Future[Claim]) -> None:
        if (error := future.exception()) is not None:
            crashes = self._crashes[job_id] = self._crashes.get(job_id, 0) + 1
            log.error("agent job %s crashed (%d of %d): %r", job_id, crashes, CRASH_RETRIES, error)
            if crashes < CRASH_RETRIES:
                RETRIES.call_later(RETRY_WAITING_SECONDS, functools.partial(self.submit, job_id))
            else:
                del self._crashes[job_id]
                self._pool.submit(fail_and_publish, job_id, "The turn could not run; try again.")
            return
        self._crashes.pop(job_id, None)
        if future.result() in (Claim.WAIT, Claim.BUSY):
            # Over the owner's running limit: try again shortly, without holding a thread.
            RETRIES.call_later(RETRY_WAITING_SECONDS, functools.partial(self.submit, job_id))

    def cancel(self, job_id: str) -> None:
        # The loop checks the database flag between steps; a thread cannot be killed.
        return None

    def recover(self) -> None:
        with session_scope() as db:
            running = [j.id for j in repository.jobs_with_status(db, statuses=["running"])]
            queued = [j.id for j in repository.jobs_with_status(db, statuses=["queued"])]
        for job_id in running:
            # Its thread died with the old process; half a turn cannot be resumed.
            finish_job(job_id, JobStatus.FAILED, "Interrupted by a server restart.", utcnow())
        for job_id in queued:
            self.submit(job_id)
        # Jobs run in this process: compile their statements now, not in the first user's
        # job; on the pool, so start-up (and the caller's event loop) does not wait for it.
        self._pool.submit(self._work.warm_up)

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def make_runner(work: JobWork) -> JobRunner:
    """The runner JOB_RUNNER names. On Celery the work runs in the workers, which are given it
    at their start (compymac_rx/worker.py); this process only sends and cancels."""
    settings = get_settings()
    if settings.job_runner == "celery":
        from compymac_rx.jobs.celery_runner import CeleryJobRunner

        return CeleryJobRunner()
    return InlineJobRunner(work, workers=settings.inline_job_workers)

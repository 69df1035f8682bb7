"""JobRunner: where agent turns run. Threads in the web process, or Celery workers."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.models import JobStatus
from compymac_rx.jobs.scheduler import Scheduler
from compymac_rx.jobs.tasks import Claim, finish_job, run_job
from compymac_rx.jobs.warm import warm_up
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

RETRY_WAITING_SECONDS = 1.0
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
    """Runs turns on a thread pool inside the web process (the embedded default)."""

    def __init__(self, *, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent-job")
        self._closed = False

    def submit(self, job_id: str) -> None:
        if not self._closed:
            self._pool.submit(run_job, job_id).add_done_callback(
                functools.partial(self._after, job_id)
            )

    def _after(self, job_id: str, future: Future[Claim]) -> None:
        if (error := future.exception()) is not None:
            log.error("agent job crashed: %r", error)
            return
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
        # Turns run in this process: compile their statements now, not in the first user's
        # turn; on the pool, so start-up (and the caller's event loop) does not wait for it.
        self._pool.submit(warm_up)

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


@functools.cache
def get_runner() -> JobRunner:
    settings = get_settings()
    if settings.job_runner == "celery":
        from compymac_rx.jobs.celery_runner import CeleryJobRunner

        return CeleryJobRunner()
    return InlineJobRunner(workers=settings.inline_job_workers)

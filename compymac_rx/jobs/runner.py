"""JobRunner: where agent turns run. In the backend process here; Celery in production."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.models import JobStatus
from compymac_rx.jobs.tasks import finish_job, run_job
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)


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

    def submit(self, job_id: str) -> None:
        self._pool.submit(run_job, job_id).add_done_callback(_log_failure)

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

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _log_failure(future: Future[None]) -> None:
    if (error := future.exception()) is not None:
        log.error("agent job crashed: %r", error)


@functools.cache
def get_runner() -> JobRunner:
    return InlineJobRunner(workers=get_settings().inline_job_workers)

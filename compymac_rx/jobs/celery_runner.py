"""The JobRunner of the production profile: jobs run on Celery workers."""

from __future__ import annotations

import logging
import threading

from compymac_rx.db import session_scope
from compymac_rx.jobs import repository
from compymac_rx.jobs.models import JobStatus
from compymac_rx.jobs.service import end_and_publish

log = logging.getLogger(__name__)


class CeleryJobRunner:
    def __init__(self) -> None:
        # Imported here: the embedded profile never loads Celery.
        from compymac_rx.jobs.celery_app import revoke_turn, submit_turn, warm_producer

        self._submit, self._revoke, self._warm = submit_turn, revoke_turn, warm_producer

    def submit(self, job_id: str) -> None:
        self._submit(job_id)

    def cancel(self, job_id: str) -> None:
        """The flag stops a running turn; a waiting one is revoked and ended here."""
        try:
            self._revoke(job_id)
        except Exception:
            log.warning("could not revoke job %s; the flag still stops it", job_id)
        with session_scope() as db:
            job = repository.get_job_for_runner(db, job_id=job_id)
            waiting = job is not None and job.status == JobStatus.QUEUED.value
        if waiting:
            end_and_publish(job_id, JobStatus.CANCELLED, None)

    def recover(self) -> None:
        # Workers and their reapers own recovery; a web process restart loses nothing. Start-up
        # is the time to open the broker connection the first send would otherwise wait for,
        # beside it: a broker that is down must not hold up the start (or an event loop).
        threading.Thread(target=self._warm_quietly, name="broker-warm-up", daemon=True).start()

    def _warm_quietly(self) -> None:
        try:
            self._warm()
        except Exception:
            log.warning("could not reach the broker at start-up; the first send will retry")

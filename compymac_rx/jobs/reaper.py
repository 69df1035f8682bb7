"""Nothing stays "running" forever: silent jobs are retried, or failed after enough tries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.service import fail_and_publish
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)


def reap_stale_jobs(*, resubmit: Callable[[str], None]) -> list[str]:
    """Requeue (and resubmit) running jobs whose heartbeat stopped; fail them past the limit.

    Several reapers may run (one per worker): the conditional update lets one win per job.
    """
    settings = get_settings()
    stale_before = utcnow() - timedelta(seconds=settings.job_stale_seconds)
    with session_scope() as db:
        stale = [(j.id, j.attempts) for j in repository.stale_jobs(db, stale_before=stale_before)]
    reaped: list[str] = []
    for job_id, attempts in stale:
        if attempts >= settings.job_max_attempts:
            message = "The worker running this turn stopped responding; the turn was not finished."
            if fail_and_publish(job_id, message):
                reaped.append(job_id)
            continue
        with session_scope() as db:
            won = repository.requeue_stale(db, job_id=job_id, stale_before=stale_before)
        if won:
            log.warning("job %s went silent; retrying it", job_id)
            resubmit(job_id)
            reaped.append(job_id)
    return reaped

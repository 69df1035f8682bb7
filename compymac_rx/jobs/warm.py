"""Pay a new worker process's one-off costs before its first job, not during a user's.

A fresh Celery child would otherwise open its first database and Redis connections and have
SQLAlchemy compile the job statements inside the first job it runs. Here they run once against
ids that do not exist, in a transaction the caller rolls back, so nothing is written.
"""

from __future__ import annotations

from sqlmodel import Session

from compymac_rx.db import get_engine, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.models import JobStatus, TurnUsage

NO_SUCH_ID = "warm-up-no-such-id"


def after_fork() -> None:
    """A forked child must not use the parent's pooled connections (they share its sockets)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)


def warm_job_statements(db: Session) -> None:
    """The claim, status, cancel and finish statements of every job; the caller rolls back."""
    now = utcnow()
    repository.claim_job(
        db, job_id=NO_SUCH_ID, user_id=NO_SUCH_ID, limit=1, now=now, stale_before=now
    )
    repository.job_status(db, job_id=NO_SUCH_ID)
    repository.cancels_requested(db, job_ids=[NO_SUCH_ID])
    for usage in (None, TurnUsage("", 0, 0, 0)):
        repository.finish(
            db, job_id=NO_SUCH_ID, status=JobStatus.DONE, error=None, now=now, usage=usage
        )


def warm_bus() -> None:
    ping = getattr(get_bus(), "ping", None)
    if callable(ping):
        ping()

"""Ending jobs and telling the tabs, whatever the job was doing."""

from __future__ import annotations

from datetime import datetime

from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.models import JobRef, JobStatus
from compymac_rx.jobs.publisher import JobPublisher


def finish_job(job_id: str, status: JobStatus, error: str | None, now: datetime) -> JobRef | None:
    """Give the job its final status; None when it had ended already."""
    with session_scope() as db:
        return repository.finish(db, job_id=job_id, status=status, error=error, now=now)


def end_and_publish(job_id: str, status: JobStatus, error: str | None) -> bool:
    """Store a final status, then tell the tabs; False when the job had already ended."""
    job = finish_job(job_id, status, error, utcnow())
    if job is None:
        return False
    JobPublisher(get_bus(), job).publish("status", status=status.value, error=error)
    return True


def fail_and_publish(job_id: str, error: str) -> bool:
    """Store a failed status and tell the tabs; False when the job had already ended."""
    return end_and_publish(job_id, JobStatus.FAILED, error)


def announce_queue_position(job: JobRef) -> None:
    with session_scope() as db:
        position = repository.queue_position(db, user_id=job.user_id, job=job)
    publisher = JobPublisher(get_bus(), job)
    publisher.publish("status", status="queued", position=position)
    publisher.flush()

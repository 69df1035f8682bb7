"""Queries on jobs. Reads for users are scoped by user id; the runner's own reads take a job id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from compymac_rx.jobs.models import Job, JobStatus

ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def add_job(session: Session, *, user_id: str, session_id: str, now: datetime) -> Job:
    job = Job(user_id=user_id, session_id=session_id, created_at=now)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, user_id: str, job_id: str) -> Job | None:
    return session.exec(select(Job).where(Job.id == job_id, Job.user_id == user_id)).first()


def get_job_for_runner(session: Session, *, job_id: str) -> Job | None:
    """For the job runner only: it receives a bare job id and learns the owner from the row."""
    return session.get(Job, job_id)


def active_job(session: Session, *, user_id: str, session_id: str) -> Job | None:
    return session.exec(
        select(Job)
        .where(
            Job.user_id == user_id,
            Job.session_id == session_id,
            col(Job.status).in_(ACTIVE),
        )
        .order_by(col(Job.created_at).desc())
    ).first()


def request_cancel(session: Session, *, user_id: str, job_id: str) -> bool:
    result = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.user_id) == user_id, col(Job.status).in_(ACTIVE))
        .values(cancel_requested=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_requested(session: Session, *, job_id: str) -> bool:
    value = session.exec(select(Job.cancel_requested).where(Job.id == job_id)).first()
    return bool(value)


def jobs_with_status(session: Session, *, statuses: Sequence[str]) -> Sequence[Job]:
    return session.exec(
        select(Job).where(col(Job.status).in_(statuses)).order_by(col(Job.created_at))
    ).all()

"""Queries on jobs. Reads for users are scoped by user id; the runner's own reads take a job id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from compymac_rx.accounts.models import User
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


def claim_job(
    session: Session,
    *,
    job_id: str,
    user_id: str,
    limit: int,
    now: datetime,
    stale_before: datetime,
) -> bool:
    """Mark a job running for this worker if it is queued (or running but silent) and its owner
    has fewer than `limit` other running jobs. True when this caller got it."""
    # The owner's row lock serialises claims of one user's jobs on PostgreSQL; SQLite runs
    # the single UPDATE below alone anyway (it ignores FOR UPDATE).
    session.exec(select(User.id).where(User.id == user_id).with_for_update()).first()
    others = (
        select(func.count())
        .select_from(Job)
        .where(
            col(Job.user_id) == user_id,
            col(Job.status) == JobStatus.RUNNING.value,
            col(Job.id) != job_id,
        )
        .scalar_subquery()
    )
    claimable = or_(
        col(Job.status) == JobStatus.QUEUED.value,
        and_(
            col(Job.status) == JobStatus.RUNNING.value,
            or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < stale_before),
        ),
    )
    result = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, claimable, others < limit)
        .values(
            status=JobStatus.RUNNING.value,
            heartbeat_at=now,
            started_at=func.coalesce(col(Job.started_at), now),
            attempts=col(Job.attempts) + 1,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def heartbeat(session: Session, *, job_id: str, now: datetime) -> None:
    session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.status) == JobStatus.RUNNING.value)
        .values(heartbeat_at=now)
    )


def queue_position(session: Session, *, user_id: str, job: Job) -> int:
    """1 for the next of the user's waiting jobs to start."""
    ahead = session.exec(
        select(func.count())
        .select_from(Job)
        .where(
            col(Job.user_id) == user_id,
            col(Job.status) == JobStatus.QUEUED.value,
            col(Job.created_at) < job.created_at,
        )
    ).one()
    return int(ahead) + 1


def stale_jobs(session: Session, *, stale_before: datetime) -> Sequence[Job]:
    return session.exec(
        select(Job).where(
            col(Job.status) == JobStatus.RUNNING.value,
            or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < stale_before),
        )
    ).all()


def requeue_stale(session: Session, *, job_id: str, stale_before: datetime) -> bool:
    """Put a silent running job back in line; False when another reaper or worker was first."""
    result = session.execute(
        update(Job)
        .where(
            col(Job.id) == job_id,
            col(Job.status) == JobStatus.RUNNING.value,
            or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < stale_before),
        )
        .values(status=JobStatus.QUEUED.value)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    return {str(status): int(count) for status, count in rows}


def finished_durations(session: Session, *, since: datetime, limit: int) -> list[tuple[str, float]]:
    """(status, seconds from start to end) of turns finished since `since`, newest first."""
    rows = session.exec(
        select(Job.status, Job.started_at, Job.finished_at)
        .where(col(Job.finished_at) >= since, col(Job.started_at).is_not(None))
        .order_by(col(Job.finished_at).desc())
        .limit(limit)
    ).all()
    return [
        (status, max(0.0, (end - start).total_seconds()))
        for status, start, end in rows
        if start is not None and end is not None
    ]

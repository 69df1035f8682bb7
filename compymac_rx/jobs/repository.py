"""Queries on jobs. Reads for users are scoped by user id; the runner's own reads take a job id."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Executable, and_, bindparam, func, insert, or_, update
from sqlmodel import Session, col, select

from compymac_rx.db import execute_core, new_id
from compymac_rx.jobs.models import Job, JobRef, JobStatus, TurnUsage

ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
FINISHED = (JobStatus.DONE.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)
# Core statements for the turn path (see chats.repository for why).
_jobs = Job.__table__  # type: ignore[attr-defined]


def add_job(session: Session, *, user_id: str, session_id: str, now: datetime) -> Job:
    job = Job(user_id=user_id, session_id=session_id, created_at=now)
    session.add(job)
    session.flush()
    return job


@functools.cache
def _insert_job_statement() -> Executable:
    return insert(_jobs)


def insert_job(
    session: Session, *, user_id: str, session_id: str, now: datetime, job_id: str | None = None
) -> str:
    job_id = job_id or new_id()
    params = {
        "id": job_id,
        "user_id": user_id,
        "session_id": session_id,
        "status": JobStatus.QUEUED.value,
        "cancel_requested": False,
        "created_at": now,
        "attempts": 0,
    }
    execute_core(session, _insert_job_statement(), params)
    return job_id


@functools.cache
def _job_status_statement() -> Executable:
    return sa.select(_jobs.c.status).where(_jobs.c.id == bindparam("p_job"))


def job_status(session: Session, *, job_id: str) -> str | None:
    value = execute_core(session, _job_status_statement(), {"p_job": job_id}).scalar()
    return None if value is None else str(value)


@functools.cache
def _finish_statement(with_usage: bool) -> Executable:
    values: dict[str, Any] = {
        "status": bindparam("p_status"),
        "error": bindparam("p_error"),
        "finished_at": bindparam("p_now"),
    }
    if with_usage:  # what the turn used, for the usage dashboard: the same statement
        values.update({name: bindparam(f"p_{name}") for name in TurnUsage.COLUMNS})
    return (
        update(_jobs)
        .where(_jobs.c.id == bindparam("p_job"), _jobs.c.status.not_in(FINISHED))
        .values(**values)
        .returning(_jobs.c.session_id, _jobs.c.user_id, _jobs.c.attempts, _jobs.c.created_at)
    )


def finish(
    session: Session,
    *,
    job_id: str,
    status: JobStatus,
    error: str | None,
    now: datetime,
    usage: TurnUsage | None = None,
) -> JobRef | None:
    """Give an unfinished job its final status (and what it used); None when it had ended
    already (or is gone)."""
    params: dict[str, Any] = {
        "p_job": job_id,
        "p_status": status.value,
        "p_error": error,
        "p_now": now,
    }
    if usage is not None:
        params.update({f"p_{k}": v for k, v in dataclasses.asdict(usage).items()})
    row = execute_core(session, _finish_statement(usage is not None), params).first()
    return None if row is None else JobRef(job_id, row[0], row[1], int(row[2]), row[3])


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


@functools.cache
def _cancel_requested_statement() -> Executable:
    return sa.select(_jobs.c.id, _jobs.c.cancel_requested).where(
        _jobs.c.id.in_(bindparam("p_jobs", expanding=True))
    )


def cancels_requested(session: Session, *, job_ids: Sequence[str]) -> set[str]:
    """Which of these jobs were asked to stop: the running jobs of a process, polled together
    several times a second (jobs/cancels.py). A job that is gone (its session deleted) counts
    as cancelled: nothing it did could be stored."""
    rows = execute_core(session, _cancel_requested_statement(), {"p_jobs": list(job_ids)})
    going = {job_id for job_id, asked in rows if not asked}
    return set(job_ids) - going


def jobs_with_status(session: Session, *, statuses: Sequence[str]) -> Sequence[Job]:
    return session.exec(
        select(Job).where(col(Job.status).in_(statuses)).order_by(col(Job.created_at))
    ).all()


@functools.cache
def _lock_owner_statement() -> Executable:
    # A lock named after the owner, held to the end of the transaction.
    return sa.select(func.pg_advisory_xact_lock(func.hashtext(bindparam("p_user"))))


@functools.cache
def _claim_statement() -> Executable:
    others = (
        sa.select(func.count())
        .select_from(_jobs)
        .where(
            _jobs.c.user_id == bindparam("p_user"),
            _jobs.c.status == JobStatus.RUNNING.value,
            _jobs.c.id != bindparam("p_job"),
        )
        .scalar_subquery()
    )
    claimable = or_(
        _jobs.c.status == JobStatus.QUEUED.value,
        and_(
            _jobs.c.status == JobStatus.RUNNING.value,
            or_(_jobs.c.heartbeat_at.is_(None), _jobs.c.heartbeat_at < bindparam("p_stale")),
        ),
    )
    return (
        update(_jobs)
        .where(_jobs.c.id == bindparam("p_job"), claimable, others < bindparam("p_limit"))
        .values(
            status=JobStatus.RUNNING.value,
            heartbeat_at=bindparam("p_now"),
            started_at=func.coalesce(_jobs.c.started_at, bindparam("p_now")),
            attempts=_jobs.c.attempts + 1,
        )
        .returning(_jobs.c.attempts)
    )


def claim_job(
    session: Session,
    *,
    job_id: str,
    user_id: str,
    limit: int,
    now: datetime,
    stale_before: datetime,
) -> int | None:
    """Mark a job running for this worker if it is queued (or running but silent) and its owner
    has fewer than `limit` other running jobs. Its attempt count when this caller got it."""
    # A lock per owner serialises claims of one user's jobs on PostgreSQL. SQLite has no such
    # lock: there the single UPDATE below runs alone under the write lock anyway.
    if session.get_bind().dialect.name != "sqlite":
        execute_core(session, _lock_owner_statement(), {"p_user": user_id})
    params = {
        "p_job": job_id,
        "p_user": user_id,
        "p_limit": limit,
        "p_now": now,
        "p_stale": stale_before,
    }
    row = execute_core(session, _claim_statement(), params).first()
    return None if row is None else int(row[0])


def heartbeat(session: Session, *, job_ids: Sequence[str], now: datetime) -> None:
    session.execute(
        update(_jobs)
        .where(_jobs.c.id.in_(job_ids), _jobs.c.status == JobStatus.RUNNING.value)
        .values(heartbeat_at=now)
    )


def queue_position(session: Session, *, user_id: str, job: Job | JobRef) -> int:
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

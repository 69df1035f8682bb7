"""The dashboard's queries: each one GROUP BY in the database, never rows into Python.

Turns, failures, tool runs and tokens come from `jobs` (one row per turn; the index on
created_at, covering the columns summed on PostgreSQL, serves the range); storage from
`storage_totals`, which triggers on `messages` keep. Admin views only: the service checks the
role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from compymac_rx.accounts.models import User
from compymac_rx.jobs.models import Job, JobStatus
from compymac_rx.usage.models import DayUsage, ModelUsage, StorageTotal, UserStorage, UserUsage


def _failed() -> Any:
    return func.sum(case((col(Job.status) == JobStatus.FAILED.value, 1), else_=0))


def daily(session: Session, *, since: datetime) -> list[DayUsage]:
    # Per (day, user) first, then per day: counting the users of a day is then a count of
    # rows, two hash aggregates instead of a COUNT(DISTINCT) that sorts every turn.
    day = func.date(col(Job.created_at)).label("day")  # SQLite: text; PostgreSQL: a date
    per_user = (
        select(
            day,
            func.count().label("turns"),
            _failed().label("failed"),
            func.sum(col(Job.tool_runs)).label("tools"),
        )
        .where(col(Job.created_at) >= since)
        .group_by(day, col(Job.user_id))
        .subquery()
    )
    rows = session.execute(
        select(
            per_user.c.day,
            func.sum(per_user.c.turns),
            func.sum(per_user.c.failed),
            func.count(),
            func.sum(per_user.c.tools),
        )
        .group_by(per_user.c.day)
        .order_by(per_user.c.day)
    ).all()
    return [DayUsage(str(d), int(t), int(f or 0), int(a), int(r or 0)) for d, t, f, a, r in rows]


def active_users(session: Session, *, since: datetime) -> int:
    """Distinct users with a turn in the range (the per-day counts cannot be added up)."""
    users = (
        select(col(Job.user_id))
        .where(col(Job.created_at) >= since)
        .group_by(col(Job.user_id))
        .subquery()
    )
    return int(session.execute(select(func.count()).select_from(users)).scalar_one())


def by_model(session: Session, *, since: datetime) -> list[ModelUsage]:
    prompt, completion = func.sum(col(Job.prompt_tokens)), func.sum(col(Job.completion_tokens))
    rows = session.execute(
        select(col(Job.model), func.count(), prompt, completion)
        .where(col(Job.created_at) >= since)
        .group_by(col(Job.model))
        .order_by((prompt + completion).desc(), col(Job.model))
    ).all()
    return [ModelUsage(m or "(unknown)", int(t), int(p or 0), int(c or 0)) for m, t, p, c in rows]


def top_users(session: Session, *, since: datetime, limit: int) -> list[UserUsage]:
    tokens = func.sum(col(Job.prompt_tokens) + col(Job.completion_tokens))
    per_user = (
        select(col(Job.user_id), func.count().label("turns"), tokens.label("tokens"))
        .where(col(Job.created_at) >= since)
        .group_by(col(Job.user_id))
        .order_by(tokens.desc(), func.count().desc())
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(col(User.email), per_user.c.turns, per_user.c.tokens)
        .join(per_user, per_user.c.user_id == col(User.id))
        .order_by(per_user.c.tokens.desc(), per_user.c.turns.desc())
    ).all()
    return [UserUsage(e, int(t), int(k or 0)) for e, t, k in rows]


def storage(session: Session, *, limit: int) -> list[UserStorage]:
    """The users whose stored messages take the most room (all time; kept by triggers)."""
    rows = session.execute(
        select(col(User.email), col(StorageTotal.messages), col(StorageTotal.bytes))
        .join(StorageTotal, col(StorageTotal.user_id) == col(User.id))
        .order_by(col(StorageTotal.bytes).desc())
        .limit(limit)
    ).all()
    return [UserStorage(e, int(m), int(b)) for e, m, b in rows]

"""The dashboard's queries: each one GROUP BY in the database, never rows into Python.

Turns, failures, tool runs and tokens come from the per-day rollups `usage_user_days` and
`usage_model_days` (kept exact by triggers on `jobs`, migration 0011): a range reads at most
users x days rows, however many turns it holds. Storage comes from `storage_totals`, which
triggers on `messages` keep. Admin views only: the service checks the role.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from compymac_rx.accounts.models import User
from compymac_rx.usage.models import (
    DayUsage,
    ModelDayUsage,
    ModelUsage,
    StorageTotal,
    UserDayUsage,
    UserStorage,
    UserUsage,
)

# Rows whose turns were all deleted stay at zero; they count for nothing.
_USER_DAYS = (col(UserDayUsage.turns) > 0,)


def daily(session: Session, *, since: datetime) -> list[DayUsage]:
    """Per UTC day from `since` (a midnight): one rollup row per active user and day, so the
    day's active users are its row count."""
    rows = session.execute(
        select(
            col(UserDayUsage.day),
            func.sum(col(UserDayUsage.turns)),
            func.sum(col(UserDayUsage.failed)),
            func.count(),
            func.sum(col(UserDayUsage.tool_runs)),
        )
        .where(col(UserDayUsage.day) >= since.date(), *_USER_DAYS)
        .group_by(col(UserDayUsage.day))
        .order_by(col(UserDayUsage.day))
    ).all()
    return [DayUsage(str(d), int(t), int(f or 0), int(a), int(r or 0)) for d, t, f, a, r in rows]


def active_users(session: Session, *, since: datetime) -> int:
    """Distinct users with a turn in the range (the per-day counts cannot be added up)."""
    users = (
        select(col(UserDayUsage.user_id))
        .where(col(UserDayUsage.day) >= since.date(), *_USER_DAYS)
        .group_by(col(UserDayUsage.user_id))
        .subquery()
    )
    return int(session.execute(select(func.count()).select_from(users)).scalar_one())


def by_model(session: Session, *, since: datetime) -> list[ModelUsage]:
    m = ModelDayUsage
    prompt, completion = func.sum(col(m.prompt_tokens)), func.sum(col(m.completion_tokens))
    rows = session.execute(
        select(col(m.model), func.sum(col(m.turns)), prompt, completion)
        .where(col(m.day) >= since.date(), col(m.turns) > 0)
        .group_by(col(m.model))
        .order_by((prompt + completion).desc(), col(m.model))
    ).all()
    return [ModelUsage(m or "(unknown)", int(t), int(p or 0), int(c or 0)) for m, t, p, c in rows]


def top_users(session: Session, *, since: datetime, limit: int) -> list[UserUsage]:
    u = UserDayUsage
    turns = func.sum(col(u.turns))
    tokens = func.sum(col(u.prompt_tokens) + col(u.completion_tokens))
    per_user = (
        select(col(u.user_id), turns.label("turns"), tokens.label("tokens"))
        .where(col(u.day) >= since.date(), *_USER_DAYS)
        .group_by(col(u.user_id))
        .order_by(tokens.desc(), turns.desc())
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

"""The dashboard's queries: each one GROUP BY in the database, never rows into Python.

Turns, failures, tool runs and tokens come from the per-day rollups `usage_days`,
`usage_user_days` and `usage_model_days` (kept exact by triggers on `jobs`, migration 0011): a
range reads at most users x days rows, however many turns it holds. Storage comes from
`storage_totals`, which triggers on `messages` keep. Admin views only: the service checks the
role.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from compymac_rx.accounts.models import User
from compymac_rx.usage.models import (
    DayTotal,
    DayUsage,
    ModelDayUsage,
    ModelUsage,
    StorageTotal,
    UserDayUsage,
    UserStorage,
    UserUsage,
)


def daily(session: Session, *, since: datetime) -> list[DayUsage]:
    """Per UTC day from `since` (a midnight): the day's totals, and its active users counted
    from the (day, user) rows (only rows with a turn exist: the primary key answers)."""
    active = (
        select(col(UserDayUsage.day), func.count().label("active"))
        .where(col(UserDayUsage.day) >= since.date())
        .group_by(col(UserDayUsage.day))
        .subquery()
    )
    rows = session.execute(
        select(
            col(DayTotal.day),
            col(DayTotal.turns),
            col(DayTotal.failed),
            func.coalesce(active.c.active, 0),
            col(DayTotal.tool_runs),
        )
        .outerjoin(active, active.c.day == col(DayTotal.day))
        .where(col(DayTotal.day) >= since.date(), col(DayTotal.turns) > 0)
        .order_by(col(DayTotal.day))
    ).all()
    return [DayUsage(str(d), int(t), int(f), int(a), int(r)) for d, t, f, a, r in rows]


def people(session: Session, *, since: datetime, limit: int) -> tuple[int, list[UserUsage]]:
    """Distinct users with a turn in the range, and the `limit` who used the most tokens:
    one pass over the range's (day, user) rows (the count is a window over the groups)."""
    u = UserDayUsage
    turns = func.sum(col(u.turns))
    tokens = func.sum(col(u.prompt_tokens) + col(u.completion_tokens))
    per_user = (
        select(
            col(u.user_id),
            turns.label("turns"),
            tokens.label("tokens"),
            func.count().over().label("active"),
        )
        .where(col(u.day) >= since.date())
        .group_by(col(u.user_id))
        .order_by(tokens.desc(), turns.desc())
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(col(User.email), per_user.c.turns, per_user.c.tokens, per_user.c.active)
        .join(per_user, per_user.c.user_id == col(User.id))
        .order_by(per_user.c.tokens.desc(), per_user.c.turns.desc())
    ).all()
    active = int(rows[0][3]) if rows else 0
    return active, [UserUsage(e, int(t), int(k or 0)) for e, t, k, _ in rows]


def by_model(session: Session, *, since: datetime) -> list[ModelUsage]:
    m = ModelDayUsage
    prompt, completion = func.sum(col(m.prompt_tokens)), func.sum(col(m.completion_tokens))
    rows = session.execute(
        select(col(m.model), func.sum(col(m.turns)), prompt, completion)
        .where(col(m.day) >= since.date())
        .group_by(col(m.model))
        .order_by((prompt + completion).desc(), col(m.model))
    ).all()
    return [ModelUsage(m or "(unknown)", int(t), int(p or 0), int(c or 0)) for m, t, p, c in rows]


def storage(session: Session, *, limit: int) -> list[UserStorage]:
    """The users whose stored messages take the most room (all time; kept by triggers)."""
    rows = session.execute(
        select(col(User.email), col(StorageTotal.messages), col(StorageTotal.bytes))
        .join(StorageTotal, col(StorageTotal.user_id) == col(User.id))
        .order_by(col(StorageTotal.bytes).desc())
        .limit(limit)
    ).all()
    return [UserStorage(e, int(m), int(b)) for e, m, b in rows]

"""The admin usage dashboard over a chosen range of days (UTC)."""

from __future__ import annotations

from datetime import timedelta

from compymac_rx.accounts.admins import require_admin
from compymac_rx.db import session_scope, utcnow
from compymac_rx.usage import repository
from compymac_rx.usage.models import Dashboard

RANGES = (1, 7, 30, 90, 365)
TOP = 10


def dashboard(actor_id: str, *, days: int) -> Dashboard:
    """Blocking. Admins only (the flag re-read from the database)."""
    with session_scope() as db:
        require_admin(db, actor_id)
    days = days if days in RANGES else 30
    now = utcnow()
    # Whole days: the first one starts at midnight UTC, so its bar is not cut short.
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    with session_scope() as db:
        daily = repository.daily(db, since=since)
        active, top_users = repository.people(db, since=since, limit=TOP)
        return Dashboard(
            days=days,
            active_users=active,
            # Sums of the per-day rows: no second pass over the range.
            turns=sum(d.turns for d in daily),
            failed_turns=sum(d.failed_turns for d in daily),
            tool_runs=sum(d.tool_runs for d in daily),
            daily=daily,
            models=repository.by_model(db, since=since),
            top_users=top_users,
            storage=repository.storage(db, limit=TOP),
        )

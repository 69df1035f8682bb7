"""Applying a session change to the sidebar's list. Plain Python: no Reflex, no I/O.

The list is the one the database gives (newest activity first, one archived state at a time);
a change from another tab puts its row where a fresh read would, so the two never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from compymac_rx.chats.models import SessionPublic


def _activity(row: SessionPublic) -> datetime:
    moment = row.last_activity_at
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def upsert(
    rows: list[SessionPublic], row: SessionPublic, *, archived_view: bool
) -> list[SessionPublic] | None:
    """The list with `row` in its place (or gone, when it left this view); None: unchanged."""
    others = [r for r in rows if r.id != row.id]
    if row.archived != archived_view:
        return others if len(others) != len(rows) else None
    if row in rows:
        return None
    return sorted([*others, row], key=_activity, reverse=True)


def remove(rows: list[SessionPublic], session_id: str) -> list[SessionPublic] | None:
    """The list without the session; None when it was not there."""
    others = [r for r in rows if r.id != session_id]
    return others if len(others) != len(rows) else None

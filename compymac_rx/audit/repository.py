"""Queries on audit events. The only module here that builds a select()."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from compymac_rx.audit.models import AuditEvent


def add_event(session: Session, *, event: AuditEvent) -> None:
    session.add(event)
    session.flush()


def list_events_for_user(
    session: Session, *, user_id: str, limit: int, offset: int = 0
) -> Sequence[AuditEvent]:
    """The events about this user's own account, newest first."""
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject_id == user_id)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id))
        .offset(offset)
        .limit(limit)
    ).all()


def list_events(
    session: Session,
    *,
    user_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> Sequence[AuditEvent]:
    """Admin only (the service checks the role): every event matching the filters."""
    query = select(AuditEvent)
    if user_id:
        query = query.where(
            or_(col(AuditEvent.actor_id) == user_id, col(AuditEvent.subject_id) == user_id)
        )
    if action:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    order = (col(AuditEvent.at).desc(), col(AuditEvent.id))
    return session.exec(query.order_by(*order).offset(offset).limit(limit)).all()


def delete_events_before(session: Session, *, before: datetime) -> int:
    result = session.execute(delete(AuditEvent).where(col(AuditEvent.at) < before))
    return int(result.rowcount)  # type: ignore[attr-defined]

"""The audit log as an admin reads it: every account's events, with their emails."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from compymac_rx.accounts import repository
from compymac_rx.accounts.admins import require_admin
from compymac_rx.audit import repository as audit_repository
from compymac_rx.audit import service as audit
from compymac_rx.audit.models import ACTIONS, AuditEventPublic, event_public
from compymac_rx.db import session_scope


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    user_email: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def events_for_admin(
    actor_id: str, filters: AuditFilter, *, page: int = 0
) -> list[AuditEventPublic]:
    """Every event matching the filters, newest first; only for an active admin (re-read)."""
    with session_scope() as db:
        require_admin(db, actor_id)
        user_id: str | None = None
        if filters.user_email:
            found = repository.get_user_by_email(db, email=filters.user_email.strip().lower())
            # An unknown email matches nothing (rather than everything).
            user_id = found.id if found else "-"
        rows = audit_repository.list_events(
            db,
            user_id=user_id,
            action=filters.action if filters.action in ACTIONS else None,
            since=filters.since,
            until=filters.until,
            limit=audit.PAGE_SIZE,
            offset=max(page, 0) * audit.PAGE_SIZE,
        )
        emails = repository.emails_of(
            db, user_ids={i for row in rows for i in (row.actor_id, row.subject_id) if i}
        )
        # A deleted account's id stays as it was: its email is gone with it.
        return [
            dataclasses.replace(
                event_public(row),
                actor_email=emails.get(row.actor_id or "", ""),
                subject_email=emails.get(row.subject_id or "", ""),
            )
            for row in rows
        ]

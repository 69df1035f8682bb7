"""The audit log: one row per security-relevant action, never a secret."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from compymac_rx.db import new_id, utcnow

# Every action the app records; the admin page filters by these.
ACTIONS: tuple[str, ...] = (
    "signin",
    "signout",
    "signup",
    "session.end",
    "password.change",
    "password.reset_request",
    "password.reset",
    "account.delete",
    "user.enable",
    "user.disable",
    "user.grant_admin",
    "user.revoke_admin",
    "key.add",
    "key.replace",
    "key.delete",
    "keys.rotate",
    "chat.delete",
    "invite.create",
    "token.create",
    "token.revoke",
    "export.session",
    "export.account",
    "import",
)
# Mailed links, two-factor and admin deletion (issue 12, second part); kept apart so merges
# stay simple (tests/audit/test_links_2fa.py exercises exactly these).
LINK_AND_2FA_ACTIONS = (
    "email.verify_request",
    "email.verify",
    "magic_link.request",
    "2fa.enable",
    "2fa.disable",
    "2fa.recovery_used",
    "user.delete",
)
ACTIONS += LINK_AND_2FA_ACTIONS
OUTCOMES = ("ok", "failed", "refused")


class AuditEvent(SQLModel, table=True):
    """Who did what to what, from where, and how it ended.

    `actor_id` and `subject_id` are plain ids, not foreign keys: the trail of an account
    outlives the account (its deletion is itself an event)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject_at", "subject_id", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    at: datetime = Field(default_factory=utcnow, index=True)
    # Who acted (None: someone not signed in, or the operator's command line).
    actor_id: str | None = Field(default=None, max_length=32)
    # Whose account the event concerns: the user's own security page lists these.
    subject_id: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=40)
    target: str = Field(default="", max_length=200)
    outcome: str = Field(default="ok", max_length=16)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


@dataclasses.dataclass(frozen=True)
class AuditEventPublic:
    id: str
    at: datetime
    actor_id: str | None
    subject_id: str | None
    action: str
    target: str
    outcome: str
    ip: str
    user_agent: str
    detail: dict[str, Any]
    # For the admin view: the actor's and subject's emails while their accounts exist.
    actor_email: str = ""
    subject_email: str = ""


def event_public(row: AuditEvent) -> AuditEventPublic:
    return AuditEventPublic(
        row.id,
        row.at,
        row.actor_id,
        row.subject_id,
        row.action,
        row.target,
        row.outcome,
        row.ip,
        row.user_agent,
        dict(row.detail),
    )

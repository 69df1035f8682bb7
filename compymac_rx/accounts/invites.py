"""Who may become an account or an admin: invite links, the bootstrap link, the first admin."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from compymac_rx import routes
from compymac_rx.accounts import repository
from compymac_rx.accounts.admins import require_admin
from compymac_rx.accounts.models import Invite
from compymac_rx.accounts.tokens import issue, link_url
from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.settings import get_settings


def becomes_admin(db: Session, *, user_id: str, email: str, grants: bool) -> bool:
    """An invite that grants it or ADMIN_EMAIL makes an admin; otherwise, with open sign-up
    and no ADMIN_EMAIL, the first account does, by claiming the one admin_claim row."""
    settings = get_settings()
    admin_email = settings.admin_email.strip().lower()
    if grants or (admin_email and email == admin_email):
        repository.claim_first_admin(db, user_id=user_id, now=utcnow())
        return True
    if settings.signup == "open" and not admin_email:
        return repository.claim_first_admin(db, user_id=user_id, now=utcnow())
    return False


def _add_invite(db: Session, *, created_by: str | None = None, grants_admin: bool = False) -> str:
    """Store a new invite (its hash only); returns the link, which is shown once."""
    ttl = timedelta(hours=get_settings().invite_ttl_hours)
    token = issue(db, Invite, ttl, created_by=created_by, grants_admin=grants_admin)
    return link_url(routes.SIGNUP, token, name="invite")


def create_invite(actor_id: str) -> str:
    """A single-use sign-up link, made by an admin; returns the link (shown once)."""
    with session_scope() as db:
        require_admin(db, actor_id)
        link = _add_invite(db, created_by=actor_id)
        # The link itself is a credential: only that one was made, never the link.
        audit.record("invite.create", actor_id=actor_id, target="invite", db=db)
        return link


def bootstrap_link() -> str | None:
    """At start: when sign-up is not open and no active admin exists, a fresh single-use link
    that creates an admin account (earlier unused ones stop working); None otherwise."""
    if get_settings().signup == "open":
        return None
    with session_scope() as db:
        if repository.active_admin_exists(db):
            return None
        repository.delete_unused_bootstrap_invites(db)
        link = _add_invite(db, grants_admin=True)
        audit.record("invite.create", target="invite", detail={"bootstrap": True}, db=db)
        return link

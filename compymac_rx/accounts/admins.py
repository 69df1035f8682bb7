"""Who may act as an admin: an active account with the flag, re-read from the database each
time (it may have been revoked since the page loaded)."""

from __future__ import annotations

from sqlmodel import Session

from compymac_rx.accounts import repository


class NotAdmin(Exception):
    """Only an active admin may do this."""


def require_admin(db: Session, actor_id: str) -> None:
    actor = repository.get_user(db, user_id=actor_id)
    if actor is None or not (actor.is_admin and actor.is_active):
        raise NotAdmin()

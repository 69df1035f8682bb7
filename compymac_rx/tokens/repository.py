"""Queries on access tokens; every one a user reaches takes their id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from compymac_rx.accounts.models import User
from compymac_rx.tokens.models import AccessToken


def add_token(session: Session, *, user_id: str, row: AccessToken) -> AccessToken:
    assert row.user_id == user_id
    session.add(row)
    session.flush()
    return row


def list_tokens(session: Session, *, user_id: str) -> Sequence[AccessToken]:
    return session.exec(
        select(AccessToken)
        .where(AccessToken.user_id == user_id)
        .order_by(col(AccessToken.created_at).desc())
    ).all()


def revoke(session: Session, *, user_id: str, token_id: str, now: datetime) -> bool:
    result = session.execute(
        update(AccessToken)
        .where(
            col(AccessToken.id) == token_id,
            col(AccessToken.user_id) == user_id,
            col(AccessToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def find_valid(session: Session, *, token_hash: str, now: datetime) -> AccessToken | None:
    """The unrevoked, unexpired token with this hash whose owner is active.

    This is the authentication itself, so it is looked up by the secret's hash, not a user id.
    """
    return session.exec(
        select(AccessToken)
        .join(User, col(User.id) == col(AccessToken.user_id))
        .where(
            AccessToken.token_hash == token_hash,
            col(AccessToken.revoked_at).is_(None),
            col(AccessToken.expires_at) > now,
            col(User.is_active).is_(True),
        )
    ).first()


def touch(session: Session, *, user_id: str, token_id: str, now: datetime) -> None:
    session.execute(
        update(AccessToken)
        .where(col(AccessToken.id) == token_id, col(AccessToken.user_id) == user_id)
        .values(last_used_at=now)
    )

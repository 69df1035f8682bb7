"""Queries on users and auth sessions. The only module here that builds a select()."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from compymac_rx.accounts.models import AuthSession, User


def count_users(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def get_user(session: Session, *, user_id: str) -> User | None:
    return session.get(User, user_id)


def add_user(session: Session, *, email: str, password_hash: str | None, is_admin: bool) -> User:
    user = User(email=email, password_hash=password_hash, is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def add_auth_session(
    session: Session,
    *,
    user_id: str,
    token_hash: str,
    expires_at: datetime,
    user_agent: str,
    ip: str,
) -> AuthSession:
    row = AuthSession(
        user_id=user_id,
        token_hash=token_hash,
        expires_at=expires_at,
        user_agent=user_agent[:300],
        ip=ip[:64],
    )
    session.add(row)
    session.flush()
    return row


def get_live_auth_session(
    session: Session, *, token_hash: str, now: datetime
) -> tuple[AuthSession, User] | None:
    """The session and its user, if not revoked, not expired and the user is active."""
    row = session.exec(
        select(AuthSession, User)
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(
            AuthSession.token_hash == token_hash,
            col(AuthSession.revoked_at).is_(None),
            AuthSession.expires_at > now,
            col(User.is_active).is_(True),
        )
    ).first()
    return (row[0], row[1]) if row else None


def revoke_auth_session(session: Session, *, token_hash: str, now: datetime) -> int:
    result = session.execute(
        update(AuthSession)
        .where(col(AuthSession.token_hash) == token_hash, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def revoke_user_auth_sessions(session: Session, *, user_id: str, now: datetime) -> int:
    result = session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def first_user(session: Session) -> User | None:
    """The account created first (it became the admin)."""
    return session.exec(select(User).order_by(col(User.created_at))).first()

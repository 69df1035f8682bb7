"""Queries on users and auth sessions. The only module here that builds a select()."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, exists, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from compymac_rx.accounts.models import (
    AdminClaim,
    AuthSession,
    Identity,
    Invite,
    OidcFlow,
    OneTimeToken,
    PasswordReset,
    RecoveryCode,
    UsedToken,
    User,
)
from compymac_rx.db import new_id, utcnow


def count_users(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def user_ids() -> sa.Select[Any]:
    """Every account's id, as a subquery for another package's query."""
    return sa.select(col(User.id))


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
    auth_session_id: str | None = None,
) -> AuthSession:
    now = utcnow()
    row = AuthSession(
        id=auth_session_id or new_id(),
        created_at=now,
        user_id=user_id,
        token_hash=token_hash,
        expires_at=expires_at,
        user_agent=user_agent[:300],
        ip=ip[:64],
        last_seen_at=now,
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


def get_auth_session_by_token(session: Session, *, token_hash: str) -> AuthSession | None:
    return session.exec(select(AuthSession).where(AuthSession.token_hash == token_hash)).first()


def touch_auth_session(session: Session, *, auth_session_id: str, now: datetime) -> None:
    session.execute(
        update(AuthSession).where(col(AuthSession.id) == auth_session_id).values(last_seen_at=now)
    )


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


# --- identities at OIDC issuers, sign-in flows, issuer-backed sessions ---


def get_identity(session: Session, *, issuer: str, subject: str) -> Identity | None:
    return session.exec(
        select(Identity).where(Identity.issuer == issuer, Identity.subject == subject)
    ).first()


def add_identity(session: Session, *, user_id: str, issuer: str, subject: str) -> Identity:
    identity = Identity(user_id=user_id, issuer=issuer, subject=subject)
    session.add(identity)
    session.flush()
    return identity


def add_oidc_flow(session: Session, *, flow: OidcFlow) -> None:
    session.add(flow)
    session.flush()


def consume_oidc_flow(session: Session, *, state_hash: str, now: datetime) -> OidcFlow | None:
    """Marks the flow used and returns it, once: a second call (a replay) gets None."""
    result = session.execute(
        update(OidcFlow)
        .where(
            col(OidcFlow.state_hash) == state_hash,
            col(OidcFlow.used_at).is_(None),
            col(OidcFlow.expires_at) > now,
        )
        .values(used_at=now)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return None
    return session.exec(select(OidcFlow).where(OidcFlow.state_hash == state_hash)).one()


def delete_old_oidc_flows(session: Session, *, before: datetime) -> None:
    session.execute(delete(OidcFlow).where(col(OidcFlow.expires_at) < before))


def get_auth_session_by_id(session: Session, *, auth_session_id: str) -> AuthSession | None:
    return session.get(AuthSession, auth_session_id)


def revoke_issuer_sessions(
    session: Session, *, issuer: str, subject: str | None, sid: str | None, now: datetime
) -> int:
    """Back-channel logout: end the live sessions of an issuer's session id or subject."""
    query = (
        update(AuthSession)
        .where(col(AuthSession.revoked_at).is_(None))
        .where(
            col(AuthSession.identity_id).in_(
                select(Identity.id).where(
                    Identity.issuer == issuer,
                    *([Identity.subject == subject] if subject else []),
                )
            )
        )
        .values(revoked_at=now)
    )
    if sid:
        query = query.where(col(AuthSession.provider_session_id) == sid)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


# --- the admin page (local provider) ---


def list_users(session: Session, *, limit: int, offset: int = 0, query: str = "") -> list[User]:
    """Admin views only (the caller checks the role): users in sign-up order, those whose
    email or name contains `query` (any case) when one is given."""
    statement = select(User)
    if query:
        needle = query.lower()
        statement = statement.where(
            col(User.email).contains(needle, autoescape=True)
            | func.lower(col(User.display_name)).contains(needle, autoescape=True)
        )
    ordered = statement.order_by(col(User.created_at), col(User.id))
    return list(session.exec(ordered.offset(offset).limit(limit)))


def get_identity_of_user(session: Session, *, user_id: str, issuer: str) -> Identity | None:
    return session.exec(
        select(Identity).where(Identity.user_id == user_id, Identity.issuer == issuer)
    ).first()


def first_user(session: Session) -> User | None:
    """The account created first (it became the admin)."""
    return session.exec(select(User).order_by(col(User.created_at))).first()


# --- sign-up policy: the first-admin claim, invites, one-time tokens ---


def _insert_once(session: Session, model: type[SQLModel], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: True when this call inserted the row.

    One statement, so two racing transactions cannot both succeed (PostgreSQL makes the
    second wait for the first and then skips; SQLite serialises writers)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg does not report a skipped row as 0 here.
    key = next(iter(table.primary_key.columns))
    return session.execute(statement.returning(key)).first() is not None


def claim_first_admin(session: Session, *, user_id: str, now: datetime) -> bool:
    return _insert_once(session, AdminClaim, {"id": 1, "user_id": user_id, "claimed_at": now})


def active_admin_exists(session: Session) -> bool:
    query = select(exists().where(col(User.is_admin).is_(True), col(User.is_active).is_(True)))
    return bool(session.exec(query).one())


def add_invite(session: Session, *, invite: Invite) -> None:
    session.add(invite)
    session.flush()


def find_usable_invite(session: Session, *, token_hash: str, now: datetime) -> Invite | None:
    return session.exec(
        select(Invite).where(
            Invite.token_hash == token_hash,
            col(Invite.used_at).is_(None),
            Invite.expires_at > now,
        )
    ).first()


def use_invite(session: Session, *, token_hash: str, now: datetime) -> Invite | None:
    """Marks the invite used and returns it, once; None when unknown, used or expired."""
    result = session.execute(
        update(Invite)
        .where(
            col(Invite.token_hash) == token_hash,
            col(Invite.used_at).is_(None),
            col(Invite.expires_at) > now,
        )
        .values(used_at=now)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return None
    return session.exec(select(Invite).where(Invite.token_hash == token_hash)).one()


def delete_unused_bootstrap_invites(session: Session) -> None:
    session.execute(
        delete(Invite).where(
            col(Invite.created_by).is_(None),
            col(Invite.grants_admin).is_(True),
            col(Invite.used_at).is_(None),
        )
    )


def remember_token(
    session: Session, *, token_hash: str, expires_at: datetime, now: datetime
) -> bool:
    """True the first time a token is seen; False for a replay. Forgets expired ones."""
    session.execute(delete(UsedToken).where(col(UsedToken.expires_at) < now))
    return _insert_once(session, UsedToken, {"token_hash": token_hash, "expires_at": expires_at})


# --- key rotation (operator command): records not sealed under the current key ---


def _not_under(column: Any, prefix: str) -> Any:
    # substr, not LIKE: key ids may contain "_", a LIKE wildcard.
    return col(column).is_not(None) & (func.substr(column, 1, len(prefix)) != prefix)


def sessions_for_rotation(session: Session, *, prefix: str, limit: int) -> list[AuthSession]:
    return list(
        session.exec(
            select(AuthSession)
            .where(
                _not_under(AuthSession.refresh_token_enc, prefix)
                | _not_under(AuthSession.id_token_enc, prefix)
            )
            .order_by(col(AuthSession.id))
            .limit(limit)
        )
    )


def flows_for_rotation(session: Session, *, prefix: str, limit: int) -> list[OidcFlow]:
    return list(
        session.exec(
            select(OidcFlow)
            .where(_not_under(OidcFlow.code_verifier_enc, prefix))
            .order_by(col(OidcFlow.id))
            .limit(limit)
        )
    )


# --- self-service: the Account page, password resets, account deletion ---


def list_live_auth_sessions(session: Session, *, user_id: str, now: datetime) -> list[AuthSession]:
    return list(
        session.exec(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                col(AuthSession.revoked_at).is_(None),
                AuthSession.expires_at > now,
            )
            .order_by(col(AuthSession.created_at).desc())
        )
    )


def revoke_user_auth_session(
    session: Session, *, user_id: str, auth_session_id: str, now: datetime
) -> bool:
    """End one of this user's sessions; False when it is not theirs, unknown or ended."""
    result = session.execute(
        update(AuthSession)
        .where(
            col(AuthSession.id) == auth_session_id,
            col(AuthSession.user_id) == user_id,
            col(AuthSession.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def revoke_other_auth_sessions(
    session: Session, *, user_id: str, keep_token_hash: str, now: datetime
) -> int:
    result = session.execute(
        update(AuthSession)
        .where(
            col(AuthSession.user_id) == user_id,
            col(AuthSession.token_hash) != keep_token_hash,
            col(AuthSession.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def set_password_hash(session: Session, *, user_id: str, password_hash: str) -> None:
    session.execute(update(User).where(col(User.id) == user_id).values(password_hash=password_hash))


def other_active_admin_exists(session: Session, *, user_id: str) -> bool:
    query = select(
        exists().where(
            col(User.is_admin).is_(True), col(User.is_active).is_(True), col(User.id) != user_id
        )
    )
    return bool(session.exec(query).one())


def lock_admins(session: Session) -> None:
    """Serialise "is this the last admin?" checks (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(User.id).where(col(User.is_admin).is_(True)).with_for_update())


def delete_user(session: Session, *, user_id: str) -> bool:
    """The user's row; the database cascades to everything that references it."""
    result = session.execute(delete(User).where(col(User.id) == user_id))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def add_password_reset(session: Session, *, reset: PasswordReset) -> None:
    session.add(reset)
    session.flush()


def find_usable_reset(session: Session, *, token_hash: str, now: datetime) -> PasswordReset | None:
    return session.exec(
        select(PasswordReset).where(
            PasswordReset.token_hash == token_hash,
            col(PasswordReset.used_at).is_(None),
            PasswordReset.expires_at > now,
        )
    ).first()


def use_password_reset(session: Session, *, token_hash: str, now: datetime) -> str | None:
    """Marks the link used and returns its user id, once; None when unknown, used or old."""
    result = session.execute(
        update(PasswordReset)
        .where(
            col(PasswordReset.token_hash) == token_hash,
            col(PasswordReset.used_at).is_(None),
            col(PasswordReset.expires_at) > now,
        )
        .values(used_at=now)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return None
    row = session.exec(select(PasswordReset).where(PasswordReset.token_hash == token_hash)).one()
    return row.user_id


def forget_user_resets(session: Session, *, user_id: str, now: datetime) -> None:
    """After a reset (or a change), every other link of this user stops working."""
    session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == user_id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    session.execute(delete(PasswordReset).where(col(PasswordReset.expires_at) < now))


def emails_of(session: Session, *, user_ids: set[str]) -> dict[str, str]:
    """Admin views only (the caller checks the role): user id -> email, for ids still here."""
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.email).where(col(User.id).in_(user_ids)))
    return dict(rows.all())


# --- one-time tokens (verification and sign-in links, pending second factors), TOTP ---


def add_one_time_token(session: Session, *, token: OneTimeToken) -> None:
    session.add(token)
    session.flush()


def find_usable_one_time_token(
    session: Session, *, token_hash: str, purpose: str, now: datetime
) -> OneTimeToken | None:
    return session.exec(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_hash,
            OneTimeToken.purpose == purpose,
            col(OneTimeToken.used_at).is_(None),
            OneTimeToken.expires_at > now,
        )
    ).first()


def use_one_time_token(
    session: Session, *, token_hash: str, purpose: str, now: datetime
) -> str | None:
    """Marks the token used and returns its user id, once; None when unknown, used, expired
    or meant for something else. One conditional UPDATE: two racing uses, one winner."""
    result = session.execute(
        update(OneTimeToken)
        .where(
            col(OneTimeToken.token_hash) == token_hash,
            col(OneTimeToken.purpose) == purpose,
            col(OneTimeToken.used_at).is_(None),
            col(OneTimeToken.expires_at) > now,
        )
        .values(used_at=now)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return None
    row = session.exec(select(OneTimeToken).where(OneTimeToken.token_hash == token_hash)).one()
    return row.user_id


def forget_one_time_tokens(session: Session, *, user_id: str, purpose: str, now: datetime) -> None:
    """Every unused token of this user and purpose stops working; expired rows go."""
    session.execute(
        update(OneTimeToken)
        .where(
            col(OneTimeToken.user_id) == user_id,
            col(OneTimeToken.purpose) == purpose,
            col(OneTimeToken.used_at).is_(None),
        )
        .values(used_at=now)
    )
    session.execute(delete(OneTimeToken).where(col(OneTimeToken.expires_at) < now))


def mark_email_verified(session: Session, *, user_id: str, now: datetime) -> bool:
    """True when this call verified it (False: already verified, or no such user)."""
    result = session.execute(
        update(User)
        .where(col(User.id) == user_id, col(User.email_verified_at).is_(None))
        .values(email_verified_at=now)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def set_totp(
    session: Session, *, user_id: str, secret_enc: str | None, enabled_at: datetime | None
) -> None:
    session.execute(
        update(User)
        .where(col(User.id) == user_id)
        .values(totp_secret_enc=secret_enc, totp_enabled_at=enabled_at, totp_last_step=None)
    )


def take_totp_step(session: Session, *, user_id: str, step: int) -> bool:
    """Record `step` as the last code used; False when it (or a later one) was used already,
    so one code never signs in twice."""
    result = session.execute(
        update(User)
        .where(
            col(User.id) == user_id,
            (col(User.totp_last_step).is_(None)) | (col(User.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def replace_recovery_codes(session: Session, *, user_id: str, code_hashes: list[str]) -> None:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in code_hashes)
    session.flush()


def use_recovery_code(session: Session, *, user_id: str, code_hash: str, now: datetime) -> bool:
    result = session.execute(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.code_hash) == code_hash,
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def count_unused_recovery_codes(session: Session, *, user_id: str) -> int:
    query = select(func.count()).where(
        col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None)
    )
    return int(session.exec(query).one())

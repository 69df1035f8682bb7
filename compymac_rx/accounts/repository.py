"""Queries on users and auth sessions. The only module here that builds a select()."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import delete, exists, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from compymac_rx.accounts.models import (
    AdminClaim,
    AuthSession,
    Identity,
    Invite,
    OidcFlow,
    RecoveryCode,
    SingleUse,
    UsedToken,
    User,
)
from compymac_rx.db import new_id, rows_changed, stamp_once, utcnow

_Once = TypeVar("_Once", bound=SingleUse)
_Sealed = TypeVar("_Sealed", AuthSession, OidcFlow)


def add(session: Session, *, row: SQLModel) -> None:
    """Store a new row built by the caller (an invite, a link, a sign-in flow)."""
    session.add(row)
    session.flush()


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
    return stamp_once(session, AuthSession.revoked_at, now, AuthSession.token_hash == token_hash)


def revoke_user_auth_sessions(session: Session, *, user_id: str, now: datetime) -> int:
    return stamp_once(session, AuthSession.revoked_at, now, AuthSession.user_id == user_id)


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


def delete_old_oidc_flows(session: Session, *, before: datetime) -> None:
    session.execute(delete(OidcFlow).where(col(OidcFlow.expires_at) < before))


def get_auth_session_by_id(session: Session, *, auth_session_id: str) -> AuthSession | None:
    return session.get(AuthSession, auth_session_id)


def revoke_issuer_sessions(
    session: Session, *, issuer: str, subject: str | None, sid: str | None, now: datetime
) -> int:
    """Back-channel logout: end the live sessions of an issuer's session id or subject."""
    identities = select(Identity.id).where(
        Identity.issuer == issuer, *([Identity.subject == subject] if subject else [])
    )
    where: list[Any] = [col(AuthSession.identity_id).in_(identities)]
    if sid:
        where.append(col(AuthSession.provider_session_id) == sid)
    return stamp_once(session, AuthSession.revoked_at, now, *where)


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


# --- sign-up policy: the first-admin claim, invites ---


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


# --- rows that work once, until they expire (models.SingleUse), found by column values ---


def _matching(model: type[SQLModel], match: dict[str, object]) -> list[Any]:
    return [col(getattr(model, name)) == value for name, value in match.items()]


def find_usable(
    session: Session, model: type[_Once], *, now: datetime, **match: object
) -> _Once | None:
    """The unused, unexpired row whose columns have the values in `match`."""
    usable = (col(model.used_at).is_(None), col(model.expires_at) > now)
    return session.exec(select(model).where(*_matching(model, match), *usable)).first()


def use_once(
    session: Session, model: type[_Once], *, now: datetime, **match: object
) -> _Once | None:
    """Marks the row used and returns it, once; None when unknown, used or expired. One
    conditional UPDATE: of two racing uses, one wins."""
    where = _matching(model, match)
    if stamp_once(session, model.used_at, now, col(model.expires_at) > now, *where) != 1:
        return None
    return session.exec(select(model).where(*where)).one()


def forget_unused(
    session: Session, model: type[SingleUse], *, now: datetime, **match: object
) -> None:
    """Every unused matching row stops working (say, the other links of a user whose
    password just changed); expired rows go."""
    stamp_once(session, model.used_at, now, *_matching(model, match))
    session.execute(delete(model).where(col(model.expires_at) < now))


# --- key rotation (operator command): records not sealed under the current key ---


def _not_under(column: Any, prefix: str) -> Any:
    # substr, not LIKE: key ids may contain "_", a LIKE wildcard.
    return col(column).is_not(None) & (func.substr(column, 1, len(prefix)) != prefix)


def _sealed_elsewhere(
    session: Session, model: type[_Sealed], columns: tuple[Any, ...], prefix: str, limit: int
) -> list[_Sealed]:
    """Up to `limit` rows with one of `columns` sealed under another key than `prefix`'s."""
    stale = or_(*(_not_under(column, prefix) for column in columns))
    return list(session.exec(select(model).where(stale).order_by(model.id).limit(limit)))


def sessions_for_rotation(session: Session, *, prefix: str, limit: int) -> list[AuthSession]:
    columns = (AuthSession.refresh_token_enc, AuthSession.id_token_enc)
    return _sealed_elsewhere(session, AuthSession, columns, prefix, limit)


def flows_for_rotation(session: Session, *, prefix: str, limit: int) -> list[OidcFlow]:
    return _sealed_elsewhere(session, OidcFlow, (OidcFlow.code_verifier_enc,), prefix, limit)


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
    mine = (col(AuthSession.id) == auth_session_id, col(AuthSession.user_id) == user_id)
    return stamp_once(session, AuthSession.revoked_at, now, *mine) == 1


def revoke_other_auth_sessions(
    session: Session, *, user_id: str, keep_token_hash: str, now: datetime
) -> int:
    others = (col(AuthSession.user_id) == user_id, col(AuthSession.token_hash) != keep_token_hash)
    return stamp_once(session, AuthSession.revoked_at, now, *others)


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
    return rows_changed(session, delete(User).where(col(User.id) == user_id)) == 1


def emails_of(session: Session, *, user_ids: set[str]) -> dict[str, str]:
    """Admin views only (the caller checks the role): user id -> email, for ids still here."""
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.email).where(col(User.id).in_(user_ids)))
    return dict(rows.all())


# --- email verification, TOTP ---


def mark_email_verified(session: Session, *, user_id: str, now: datetime) -> bool:
    """True when this call verified it (False: already verified, or no such user)."""
    return stamp_once(session, User.email_verified_at, now, col(User.id) == user_id) == 1


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
    statement = (
        update(User)
        .where(
            col(User.id) == user_id,
            (col(User.totp_last_step).is_(None)) | (col(User.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    return rows_changed(session, statement) == 1


def replace_recovery_codes(session: Session, *, user_id: str, code_hashes: list[str]) -> None:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in code_hashes)
    session.flush()


def use_recovery_code(session: Session, *, user_id: str, code_hash: str, now: datetime) -> bool:
    code = (col(RecoveryCode.user_id) == user_id, col(RecoveryCode.code_hash) == code_hash)
    return stamp_once(session, RecoveryCode.used_at, now, *code) == 1


def count_unused_recovery_codes(session: Session, *, user_id: str) -> int:
    query = select(func.count()).where(
        col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None)
    )
    return int(session.exec(query).one())

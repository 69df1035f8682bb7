"""Queries on API keys and model preferences, scoped to the owner's user id."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import Session, col, select

from compymac_rx.keys.models import ApiKey, ModelPreference


def list_keys(session: Session, *, user_id: str) -> Sequence[ApiKey]:
    return session.exec(
        select(ApiKey).where(ApiKey.user_id == user_id).order_by(col(ApiKey.provider))
    ).all()


def get_key(session: Session, *, user_id: str, provider: str) -> ApiKey | None:
    return session.exec(
        select(ApiKey).where(ApiKey.user_id == user_id, ApiKey.provider == provider)
    ).first()


def delete_key(session: Session, *, user_id: str, provider: str) -> bool:
    row = get_key(session, user_id=user_id, provider=provider)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def keys_for_rotation(
    session: Session, *, current_key_id: str, limit: int, skip: Collection[str] = ()
) -> Sequence[ApiKey]:
    """Operator-only (the rotation command): records of every user not under the current key
    (but those in `skip`, which could not be opened)."""
    return session.exec(
        select(ApiKey)
        .where(ApiKey.key_id != current_key_id, col(ApiKey.id).not_in(skip))
        .order_by(col(ApiKey.id))
        .limit(limit)
    ).all()


def get_preference(session: Session, *, user_id: str) -> ModelPreference | None:
    return session.exec(select(ModelPreference).where(ModelPreference.user_id == user_id)).first()

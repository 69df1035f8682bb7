"""Opaque tokens: how they are stored (a hash), issued and used once, and one-time ones
remembered until expiry."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlencode

from sqlmodel import Session

from compymac_rx.accounts import repository
from compymac_rx.accounts.models import SingleUse
from compymac_rx.db import session_scope, utcnow
from compymac_rx.settings import get_settings

# Longer than any token issued here: a longer one is refused unread.
TOKEN_MAX = 100
_Once = TypeVar("_Once", bound=SingleUse)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(route: str, token: str, *, name: str = "token") -> str:
    """The public link that carries `token` to `route` (a mailed or shown link)."""
    return f"{get_settings().public_url}{route}?{urlencode({name: token})}"


def issue(db: Session, kind: Callable[..., SingleUse], ttl: timedelta, **fields: object) -> str:
    """A new single-use token: stores a `kind` row (its hash, `fields`, expiring after `ttl`)
    and returns the token itself, to be shown or mailed once and never stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = kind(token_hash=hash_token(token), created_at=now, expires_at=now + ttl, **fields)
    repository.add(db, row=row)
    return token


def usable(kind: type[_Once], token: str, **match: object) -> _Once | None:
    """Blocking: the row of a token that still works; None when unknown, used, expired or
    malformed."""
    if not token or len(token) > TOKEN_MAX:
        return None
    with session_scope() as db:
        return repository.find_usable(db, kind, now=utcnow(), token_hash=hash_token(token), **match)


def redeem(
    db: Session, kind: type[_Once], token: str, *, now: datetime, **match: object
) -> _Once | None:
    """Use a token: its row, once; None when unknown, used, expired or malformed."""
    if not token or len(token) > TOKEN_MAX:
        return None
    return repository.use_once(db, kind, now=now, token_hash=hash_token(token), **match)


def remember_once(kind: str, value: str, *, expires_at: datetime) -> bool:
    """True the first time (`kind`, `value`) is seen before it expires; False on a replay."""
    digest = hash_token(f"{kind}:{value}")
    with session_scope() as db:
        return repository.remember_token(db, token_hash=digest, expires_at=expires_at, now=utcnow())

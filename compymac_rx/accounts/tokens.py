"""Opaque tokens: how they are stored (a hash), and one-time ones remembered until expiry."""

from __future__ import annotations

import hashlib
from datetime import datetime

from compymac_rx.accounts import repository
from compymac_rx.db import session_scope, utcnow


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember_once(kind: str, value: str, *, expires_at: datetime) -> bool:
    """True the first time (`kind`, `value`) is seen before it expires; False on a replay."""
    digest = hash_token(f"{kind}:{value}")
    with session_scope() as db:
        return repository.remember_token(db, token_hash=digest, expires_at=expires_at, now=utcnow())

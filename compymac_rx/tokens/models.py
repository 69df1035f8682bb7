"""Personal access tokens for the REST API: named, scoped, expiring, stored as a hash."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlmodel import Field, SQLModel

from compymac_rx.db import new_id, utcnow

READ = "read"
WRITE = "write"
SCOPES = (READ, WRITE)


class AccessToken(SQLModel, table=True):
    __tablename__ = "access_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    name: str = Field(max_length=100)
    # SHA-256 of the secret (hex). The secret itself is shown once and never stored.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # The secret's first characters, so a person can tell their tokens apart.
    prefix: str = Field(max_length=16)
    # "read" or "read write".
    scopes: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclasses.dataclass(frozen=True)
class TokenPublic:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclasses.dataclass(frozen=True)
class TokenUser:
    """Who a valid token acts for, and what it may do."""

    user_id: str
    token_id: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        return scope in self.scopes

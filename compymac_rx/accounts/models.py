"""Users and their server-side sign-in sessions."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlmodel import Field, SQLModel

from compymac_rx.db import new_id, utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str | None = Field(default=None, max_length=255)
    display_name: str = Field(default="", max_length=120)
    is_admin: bool = False
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A sign-in. The browser holds only the opaque token; the row holds its hash."""

    __tablename__ = "auth_sessions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime | None = None
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)


@dataclasses.dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as handlers see it; resolved on the server from the cookie."""

    id: str
    email: str
    is_admin: bool

"""The usage dashboard's shapes, and the one table it keeps: stored bytes per user."""

from __future__ import annotations

import dataclasses

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class StorageTotal(SQLModel, table=True):
    """Messages and their text bytes per user, kept by database triggers on `messages`
    (migration 0010): the dashboard reads 1,000 rows, not every message."""

    __tablename__ = "storage_totals"

    user_id: str = Field(
        foreign_key="users.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    messages: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


@dataclasses.dataclass(frozen=True)
class DayUsage:
    day: str  # YYYY-MM-DD (UTC)
    turns: int
    failed_turns: int
    active_users: int
    tool_runs: int


@dataclasses.dataclass(frozen=True)
class ModelUsage:
    model: str
    turns: int
    prompt_tokens: int
    completion_tokens: int


@dataclasses.dataclass(frozen=True)
class UserUsage:
    email: str
    turns: int
    tokens: int


@dataclasses.dataclass(frozen=True)
class UserStorage:
    email: str
    messages: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class Dashboard:
    days: int
    active_users: int
    turns: int
    failed_turns: int
    tool_runs: int
    daily: list[DayUsage]
    models: list[ModelUsage]
    top_users: list[UserUsage]
    storage: list[UserStorage]

"""The usage dashboard's shapes, and the tables it keeps: stored bytes per user, and turns
rolled up per day (per user, per model), all kept by database triggers."""

from __future__ import annotations

import dataclasses
from datetime import date

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


def _count() -> int:
    return Field(default=0, sa_column=Column(BigInteger, nullable=False))  # type: ignore[no-any-return]


class DayTotal(SQLModel, table=True):
    """Turns, failures and tool runs per UTC day, kept by triggers on `jobs` (migration
    0011). Not tied to users: a deleted user's turns leave it with their rows."""

    __tablename__ = "usage_days"

    day: date = Field(primary_key=True)
    turns: int = _count()
    failed: int = _count()
    tool_runs: int = _count()


class UserDayUsage(SQLModel, table=True):
    """Turns per (UTC day, user), kept by triggers on `jobs` (migration 0011): a 90-day range
    is at most users x 90 rows, however many turns they hold. A row exists only while it
    counts a turn, so a day's active users are its number of rows."""

    __tablename__ = "usage_user_days"

    day: date = Field(primary_key=True)
    user_id: str = Field(
        foreign_key="users.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    turns: int = _count()
    failed: int = _count()
    tool_runs: int = _count()
    prompt_tokens: int = _count()
    completion_tokens: int = _count()


class ModelDayUsage(SQLModel, table=True):
    """Turns and tokens per (UTC day, model), kept by the same triggers."""

    __tablename__ = "usage_model_days"

    day: date = Field(primary_key=True)
    model: str = Field(primary_key=True, max_length=200)
    turns: int = _count()
    prompt_tokens: int = _count()
    completion_tokens: int = _count()


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

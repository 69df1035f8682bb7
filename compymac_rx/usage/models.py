"""The usage dashboard's shapes (no tables: every number is aggregated from jobs/messages)."""

from __future__ import annotations

import dataclasses


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

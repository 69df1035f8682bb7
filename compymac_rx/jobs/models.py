"""Agent jobs: one turn of a session, run by a JobRunner."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from compymac_rx.db import new_id, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),
        # The admin usage dashboard's range scans (usage/repository.py); on PostgreSQL it
        # covers every column the dashboard sums, so they are index-only scans.
        Index(
            "ix_jobs_created_user_status",
            "created_at",
            "user_id",
            "status",
            postgresql_include=["model", "prompt_tokens", "completion_tokens", "tool_runs"],
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    session_id: str = Field(
        foreign_key="agent_sessions.id", index=True, max_length=32, ondelete="CASCADE"
    )
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    status: str = Field(default=JobStatus.QUEUED, max_length=16, index=True)
    cancel_requested: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Written every few seconds while a worker runs the turn; the reaper finds silent ones.
    heartbeat_at: datetime | None = None
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # What the turn used, written with its final status (the usage dashboard sums these).
    model: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    prompt_tokens: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    completion_tokens: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    tool_runs: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


@dataclasses.dataclass(frozen=True)
class TurnUsage:
    """What a finished turn used, stored on its row with the final status."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "model",
        "prompt_tokens",
        "completion_tokens",
        "tool_runs",
    )

    model: str
    prompt_tokens: int
    completion_tokens: int
    tool_runs: int


@dataclasses.dataclass(frozen=True)
class JobRef:
    """What the runner carries of a job between its transactions: ids, never an ORM row."""

    id: str
    session_id: str
    user_id: str
    attempts: int
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class JobPublic:
    """A job as its owner sees it."""

    id: str
    status: str
    error: str | None

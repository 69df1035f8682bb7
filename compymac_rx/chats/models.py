"""Agent sessions (the sidebar) and their messages."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from compymac_rx.db import new_id, utcnow

DEFAULT_TITLE = "New session"


class AgentSession(SQLModel, table=True):
    __tablename__ = "agent_sessions"
    __table_args__ = (
        Index("ix_agent_sessions_owner_listing", "user_id", "archived", "last_activity_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    title: str = Field(default=DEFAULT_TITLE, max_length=500)
    title_is_auto: bool = True
    workspace_path: str = Field(max_length=1000)
    archived: bool = False
    # "" = the user's default model; see agent.factory for the format.
    model: str = Field(default="", max_length=200)
    # The model parameters of this session (agent/params.py): "" and None inherit (the
    # user's default prompt; the provider's temperature; MODEL_MAX_OUTPUT_TOKENS).
    system_prompt: str = Field(default="", sa_column=Column(Text, nullable=False))
    temperature: float | None = None
    max_output_tokens: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_activity_at: datetime = Field(default_factory=utcnow, index=True)


class Message(SQLModel, table=True):
    """One entry of a session's history: user text, assistant text or a tool-call record."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),
        # The versions of one turn: user messages with the same parent (chats/versions.py).
        Index("ix_messages_session_parent", "session_id", "parent_id"),
        # A redelivered job writes the same (job, step) again: the constraint makes it a no-op.
        UniqueConstraint("job_id", "job_step", name="uq_messages_job_step"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(
        foreign_key="agent_sessions.id", index=True, max_length=32, ondelete="CASCADE"
    )
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    seq: int
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    job_id: str | None = Field(default=None, index=True, max_length=32)
    job_step: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Versions (chats/versions.py). A user message starts a turn; `parent_id` is the user
    # message of the turn before it (None for a first turn), so the versions of a turn are the
    # user messages sharing a parent, and `chosen` marks the one shown. `hidden` is derived:
    # the message is off the chosen path (kept in step by versions.refresh_path), so reads of
    # the conversation filter one column instead of walking the tree.
    parent_id: int | None = None
    chosen: bool = True
    hidden: bool = False


@dataclasses.dataclass(frozen=True)
class SessionPublic:
    id: str
    title: str
    archived: bool
    last_activity_at: datetime


@dataclasses.dataclass(frozen=True)
class MessagePublic:
    id: int
    seq: int
    role: str
    content: str
    meta: dict[str, Any]
    job_id: str | None
    # A user message's turn versions, oldest first, this one among them (empty: only one).
    versions: tuple[int, ...] = ()


def message_public(row: Message) -> MessagePublic:
    assert row.id is not None
    return MessagePublic(row.id, row.seq, row.role, row.content, dict(row.meta), row.job_id)


def message_payload(message: MessagePublic) -> dict[str, Any]:
    """A stored message as it travels in a job event (the contract's MESSAGE): the view builds
    its row from this, with no database read."""
    return dataclasses.asdict(message)


@dataclasses.dataclass(frozen=True)
class HistoryRow:
    """A stored message as the next model call reads it."""

    id: int
    role: str
    content: str
    meta: dict[str, Any]

"""Users' own model-provider API keys (encrypted at rest) and their default model."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from compymac_rx.db import new_id, utcnow

PROVIDERS = ("openai", "openrouter", "custom")
PROVIDER_LABELS = {"openai": "OpenAI", "openrouter": "OpenRouter", "custom": "Custom base URL"}


class ApiKey(SQLModel, table=True):
    """One key per user and provider. `secret` is a crypto.encrypt record; never plaintext."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("user_id", "provider", name="uq_api_keys_user_provider"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    provider: str = Field(max_length=16)
    base_url: str = Field(default="", max_length=500)
    secret: str = Field(sa_column=Column(Text, nullable=False))
    key_id: str = Field(max_length=32)
    hint: str = Field(max_length=8)
    models: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ModelPreference(SQLModel, table=True):
    """A user's default model choice (see agent.factory for the choice format) and default
    system prompt ("" = the app's own, agent.params.DEFAULT_SYSTEM_PROMPT)."""

    __tablename__ = "model_preferences"

    user_id: str = Field(
        foreign_key="users.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    default_model: str = Field(default="", max_length=200)
    system_prompt: str = Field(default="", sa_column=Column(Text, nullable=False))


@dataclasses.dataclass(frozen=True)
class ApiKeyPublic:
    """What may leave the server: never the key, only its last four characters."""

    provider: str
    base_url: str
    hint: str
    models: list[str]
    updated_at: datetime

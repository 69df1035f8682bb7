"""What the API reads and writes (Create/Update/Public, as the services' shapes)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from compymac_rx.search.models import SearchHit


class _Out(BaseModel):
    """A response body read off a service's public shape, attribute by attribute."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, shape: object) -> Self:
        return cls.model_validate(shape)


class SessionOut(_Out):
    id: str
    title: str
    archived: bool
    last_activity_at: datetime


class SessionUpdate(BaseModel):
    """Rename, archive or unarchive; fields left out stay as they are."""

    title: str | None = Field(None, max_length=1000)
    archived: bool | None = None


class MessageOut(_Out):
    id: int
    seq: int
    role: str
    content: str
    meta: dict[str, Any]
    job_id: str | None


class MessagePage(BaseModel):
    messages: list[MessageOut]
    # True when older messages exist: ask again with before_seq = messages[0].seq.
    has_older: bool


class MessageCreate(BaseModel):
    text: str = Field(min_length=1, max_length=1_000_000)


class JobOut(BaseModel):
    id: str
    status: str
    error: str | None = None


class SentOut(BaseModel):
    """A sent message: the turn's job (follow /jobs/{id}/events) and the stored message."""

    job: JobOut
    message: MessageOut


class StopOut(BaseModel):
    stopped: bool


class FileOut(_Out):
    path: str
    name: str
    is_dir: bool
    size: int


class Highlight(BaseModel):
    start: int
    end: int


class SearchHitOut(_Out):
    session_id: str
    title: str
    archived: bool
    message_id: int | None
    seq: int | None
    snippet: str
    # Character ranges of the matched words in `snippet` (plain text, never markup).
    highlights: list[Highlight]
    at: datetime

    @classmethod
    def of(cls, shape: object) -> Self:
        assert isinstance(shape, SearchHit)
        snippet = shape.snippet
        highlights = [Highlight(start=a, end=b) for a, b in snippet.highlights]
        fields = dataclasses.asdict(shape) | {"snippet": snippet.text, "highlights": highlights}
        return cls.model_validate(fields)


class ImportOut(BaseModel):
    session_ids: list[str]

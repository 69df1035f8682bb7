"""What the API reads and writes (Create/Update/Public, as the services' shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from compymac_rx.chats.models import MessagePublic, SessionPublic
from compymac_rx.files.service import FileEntry
from compymac_rx.search.models import SearchHit


class SessionOut(BaseModel):
    id: str
    title: str
    archived: bool
    last_activity_at: datetime

    @classmethod
    def of(cls, row: SessionPublic) -> SessionOut:
        return cls(
            id=row.id, title=row.title, archived=row.archived, last_activity_at=row.last_activity_at
        )


class SessionUpdate(BaseModel):
    """Rename, archive or unarchive; fields left out stay as they are."""

    title: str | None = Field(None, max_length=1000)
    archived: bool | None = None


class MessageOut(BaseModel):
    id: int
    seq: int
    role: str
    content: str
    meta: dict[str, Any]
    job_id: str | None

    @classmethod
    def of(cls, row: MessagePublic) -> MessageOut:
        return cls(
            id=row.id,
            seq=row.seq,
            role=row.role,
            content=row.content,
            meta=row.meta,
            job_id=row.job_id,
        )


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


class FileOut(BaseModel):
    path: str
    name: str
    is_dir: bool
    size: int

    @classmethod
    def of(cls, entry: FileEntry) -> FileOut:
        return cls(path=entry.path, name=entry.name, is_dir=entry.is_dir, size=entry.size)


class Highlight(BaseModel):
    start: int
    end: int


class SearchHitOut(BaseModel):
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
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(
            session_id=hit.session_id,
            title=hit.title,
            archived=hit.archived,
            message_id=hit.message_id,
            seq=hit.seq,
            snippet=hit.snippet.text,
            highlights=[Highlight(start=a, end=b) for a, b in hit.snippet.highlights],
            at=hit.at,
        )


class ImportOut(BaseModel):
    session_ids: list[str]

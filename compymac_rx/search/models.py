"""What a search returns: plain shapes, no HTML anywhere (highlights are character ranges)."""

from __future__ import annotations

import dataclasses
from datetime import datetime


@dataclasses.dataclass(frozen=True)
class Snippet:
    """A piece of text around the match and the [start, end) ranges of the matched words."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()


@dataclasses.dataclass(frozen=True)
class RawHit:
    """One matching row as an index returns it (before ranking, snippets and one-per-session)."""

    session_id: str
    title: str
    archived: bool
    # None for a title match.
    message_id: int | None
    seq: int | None
    text: str
    at: datetime | str  # SQLite returns its text form; `index.when` reads it for shown hits


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """One session found: where (a message's seq, or None for its title), what and when."""

    session_id: str
    title: str
    archived: bool
    message_id: int | None
    seq: int | None
    snippet: Snippet
    at: datetime

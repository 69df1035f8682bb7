"""SearchIndex: full-text search over one user's session titles and messages.

Two implementations, one per database, both built by revision 0006 and kept current by the
database itself (FTS5 triggers on SQLite, generated tsvector columns with GIN indexes on
PostgreSQL). Every query takes the owner's id and filters on it; the SQLite index even
narrows by it inside the match. Hidden versions of a turn (chats/versions.py) are left out:
a hit opens the conversation as shown, where a hidden message is not; switching versions
makes them findable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from compymac_rx.search import query
from compymac_rx.search.models import RawHit

# The newest WINDOW matches of each kind are the candidates, not all of them: a word found in a
# third of a user's 500,000 messages would otherwise be fetched and scored 150,000 times
# (seconds); the newest few hundred take milliseconds and are what a person looks for. Rare
# words, the usual search, have fewer matches than this and are considered completely. The
# window also bounds the worst case on PostgreSQL, a word in about 2% of messages, where the
# GIN plan reads every match and the walk reads WINDOW / 2% rows (measured at 500,000
# messages: 100-300 ms with a window of 1,000, 20-35 ms with 300). The indexes only find and
# bound the candidates; `query.rank` orders them, the same way on both databases.
WINDOW = 300


class SearchIndex(Protocol):
    def find(self, db: Session, *, user_id: str, words: list[str], archived: bool) -> list[RawHit]:
        """The newest WINDOW title hits and WINDOW message hits of the user's sessions, newest
        first within each kind, unranked.

        `archived` False leaves archived sessions out; True includes them.
        """
        ...


def _archived_filter(archived: bool) -> str:
    return "" if archived else " AND s.archived = false"


def when(value: datetime | str) -> datetime:
    """A hit's time as an aware datetime (parsed only for the hits shown, not every candidate)."""
    if isinstance(value, str):  # SQLite's text form, from a raw statement
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hits(titles: Sequence[Any], messages: Sequence[Any]) -> list[RawHit]:
    return [RawHit(r[0], r[1], bool(r[2]), None, None, r[1], r[3]) for r in titles] + [
        RawHit(r[0], r[1], bool(r[2]), int(r[3]), int(r[4]), r[5], r[6]) for r in messages
    ]


class SqliteSearchIndex:
    """FTS5: `search_titles` and `search_messages` (external content over `messages`)."""

    def find(self, db: Session, *, user_id: str, words: list[str], archived: bool) -> list[RawHit]:
        # FTS5 walks matches in rowid order natively: the inner LIMIT stops it after WINDOW
        # rows. No bm25(): its IDF counts every row of every phrase in the whole index, the
        # owner's `user_id` phrase included (measured: 30-100 ms per query at 500,000
        # messages, where finding the window takes 1-10 ms).
        params = {"user": user_id, "window": WINDOW}
        titles = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, s.last_activity_at"
                " FROM (SELECT rowid AS n, session_id FROM search_titles"
                "  WHERE search_titles MATCH :match ORDER BY rowid DESC LIMIT :window) c"
                " JOIN agent_sessions s ON s.id = c.session_id"
                " WHERE s.user_id = :user" + _archived_filter(archived) + " ORDER BY c.n DESC"
            ),
            {**params, "match": query.fts5_match("title", user_id, words)},
        ).all()
        messages = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, m.id, m.seq, m.content, m.created_at"
                " FROM (SELECT rowid AS id FROM search_messages"
                "  WHERE search_messages MATCH :match ORDER BY rowid DESC LIMIT :window) c"
                " JOIN messages m ON m.id = c.id"
                " JOIN agent_sessions s ON s.id = m.session_id"
                " WHERE m.user_id = :user AND s.user_id = :user AND m.hidden = false"
                + _archived_filter(archived)
                + " ORDER BY m.id DESC"
            ),
            {**params, "match": query.fts5_match("content", user_id, words)},
        ).all()
        return _hits(titles, messages)


class PostgresSearchIndex:
    """The generated `search_vector` columns (GIN-indexed) of `agent_sessions` and `messages`."""

    def find(self, db: Session, *, user_id: str, words: list[str], archived: bool) -> list[RawHit]:
        # Two plans, chosen per query from the word's statistics: a rare word's few rows from
        # the GIN index; a common word's newest rows by walking ix_search_messages_recent
        # (revision 0009: owner, time) backwards, checking each, stopping at WINDOW. Only that
        # index yields this order, so the walk never crosses other users' rows.
        # The plan must be made for these words: psycopg prepares a statement after its fifth
        # run, and PostgreSQL may then keep one generic plan for every tsquery, which cannot
        # tell rare from common (measured: 0.6-1.6 s for common words, against 20-40 ms
        # planned for the word). Planning costs about 1 ms.
        db.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
        params = {"q": query.tsquery(words), "user": user_id, "window": WINDOW}
        titles = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, s.last_activity_at FROM agent_sessions s"
                " WHERE s.search_vector @@ to_tsquery('simple'::regconfig, :q)"
                " AND s.user_id = :user"
                + _archived_filter(archived)
                + " ORDER BY s.last_activity_at DESC LIMIT :window"
            ),
            params,
        ).all()
        messages = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, m.id, m.seq, m.content, m.created_at"
                " FROM (SELECT id FROM messages"
                "  WHERE search_vector @@ to_tsquery('simple'::regconfig, :q) AND user_id = :user"
                "  ORDER BY created_at DESC, id DESC LIMIT :window) c"
                " JOIN messages m ON m.id = c.id"
                " JOIN agent_sessions s ON s.id = m.session_id"
                " WHERE m.user_id = :user AND s.user_id = :user AND m.hidden = false"
                + _archived_filter(archived)
                + " ORDER BY m.created_at DESC, m.id DESC"
            ),
            params,
        ).all()
        return _hits(titles, messages)


def index_for(dialect: str) -> SearchIndex:
    """The index of the database in use (it follows DATABASE_URL, like the schema does)."""
    return SqliteSearchIndex() if dialect == "sqlite" else PostgresSearchIndex()

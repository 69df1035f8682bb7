"""SearchIndex: full-text search over one user's session titles and messages.

Two implementations, one per database, both built by revision 0006 and kept current by the
database itself (FTS5 triggers on SQLite, generated tsvector columns with GIN indexes on
PostgreSQL). Every query
takes the owner's id and filters on it; the SQLite index even narrows by it inside the match.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from compymac_rx.search import query
from compymac_rx.search.models import RawHit

# Ranking looks at the newest WINDOW matches of each kind, not all of them: a word found in a
# third of a user's 500,000 messages would otherwise be scored 150,000 times (seconds); the
# newest 1,000 are ranked in milliseconds and are what a person looks for. Rare words, the
# usual search, have fewer matches than this and are ranked completely.
WINDOW = 1000


class SearchIndex(Protocol):
    def find(
        self, db: Session, *, user_id: str, words: list[str], archived: bool, limit: int
    ) -> list[RawHit]:
        """Title hits and message hits of the user's sessions, best first within each kind.

        `archived` False leaves archived sessions out; True includes them.
        """
        ...


def _archived_filter(archived: bool) -> str:
    return "" if archived else " AND s.archived = false"


def _when(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite's text form, from a raw statement
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SqliteSearchIndex:
    """FTS5: `search_titles` and `search_messages` (external content over `messages`)."""

    def find(
        self, db: Session, *, user_id: str, words: list[str], archived: bool, limit: int
    ) -> list[RawHit]:
        # FTS5 walks matches in rowid order natively: the inner LIMIT stops it after WINDOW
        # rows, and bm25() is computed for those only.
        titles = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, s.last_activity_at, c.score"
                " FROM (SELECT session_id, bm25(search_titles) AS score FROM search_titles"
                "  WHERE search_titles MATCH :match ORDER BY rowid DESC LIMIT :window) c"
                " JOIN agent_sessions s ON s.id = c.session_id"
                " WHERE s.user_id = :user"
                + _archived_filter(archived)
                + " ORDER BY c.score LIMIT :limit"
            ),
            {
                "match": query.fts5_match("title", user_id, words),
                "user": user_id,
                "limit": limit,
                "window": WINDOW,
            },
        ).all()
        messages = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, m.id, m.seq, m.content, m.created_at, c.score"
                " FROM (SELECT rowid AS id, bm25(search_messages) AS score FROM search_messages"
                "  WHERE search_messages MATCH :match ORDER BY rowid DESC LIMIT :window) c"
                " JOIN messages m ON m.id = c.id"
                " JOIN agent_sessions s ON s.id = m.session_id"
                " WHERE m.user_id = :user AND s.user_id = :user"
                + _archived_filter(archived)
                + " ORDER BY c.score LIMIT :limit"
            ),
            {
                "match": query.fts5_match("content", user_id, words),
                "user": user_id,
                "limit": limit,
                "window": WINDOW,
            },
        ).all()
        # bm25() is negative, smaller is better: flip it so larger is better everywhere.
        return [
            RawHit(r[0], r[1], bool(r[2]), None, None, r[1], _when(r[3]), -float(r[4]))
            for r in titles
        ] + [
            RawHit(r[0], r[1], bool(r[2]), int(r[3]), int(r[4]), r[5], _when(r[6]), -float(r[7]))
            for r in messages
        ]


class PostgresSearchIndex:
    """The generated `search_vector` columns (GIN-indexed) of `agent_sessions` and `messages`."""

    def find(
        self, db: Session, *, user_id: str, words: list[str], archived: bool, limit: int
    ) -> list[RawHit]:
        params = {"q": query.tsquery(words), "user": user_id, "limit": limit, "window": WINDOW}
        # Innermost: the newest WINDOW matching ids; only those are ranked. The query is
        # inline (not a joined function) so the planner estimates how many rows match from
        # the column's statistics: the GIN index for a rare word, the primary key backwards
        # (stopping at WINDOW) for a common one.
        titles = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, s.last_activity_at,"
                " ts_rank(s.search_vector, q, 1) AS score"
                " FROM (SELECT id FROM agent_sessions"
                "  WHERE search_vector @@ to_tsquery('simple'::regconfig, :q) AND user_id = :user"
                "  ORDER BY last_activity_at DESC LIMIT :window) c"
                " JOIN agent_sessions s ON s.id = c.id,"
                " to_tsquery('simple'::regconfig, :q) q"
                " WHERE s.user_id = :user"
                + _archived_filter(archived)
                + " ORDER BY score DESC, s.last_activity_at DESC LIMIT :limit"
            ),
            params,
        ).all()
        messages = db.execute(
            sa.text(
                "SELECT s.id, s.title, s.archived, m.id, m.seq, m.content, m.created_at,"
                " ts_rank(m.search_vector, q, 1) AS score"
                " FROM (SELECT id FROM messages"
                "  WHERE search_vector @@ to_tsquery('simple'::regconfig, :q) AND user_id = :user"
                "  ORDER BY id DESC LIMIT :window) c"
                " JOIN messages m ON m.id = c.id"
                " JOIN agent_sessions s ON s.id = m.session_id,"
                " to_tsquery('simple'::regconfig, :q) q"
                " WHERE m.user_id = :user AND s.user_id = :user"
                + _archived_filter(archived)
                + " ORDER BY score DESC, m.created_at DESC LIMIT :limit"
            ),
            params,
        ).all()
        return [
            RawHit(r[0], r[1], bool(r[2]), None, None, r[1], _when(r[3]), float(r[4]))
            for r in titles
        ] + [
            RawHit(r[0], r[1], bool(r[2]), int(r[3]), int(r[4]), r[5], _when(r[6]), float(r[7]))
            for r in messages
        ]


def index_for(dialect: str) -> SearchIndex:
    """The index of the database in use (it follows DATABASE_URL, like the schema does)."""
    return SqliteSearchIndex() if dialect == "sqlite" else PostgresSearchIndex()

"""search at scale: 4-character prefix indexes (SQLite), the owner's newest messages (PostgreSQL)

Search takes the newest matches of a query as its candidates (see compymac_rx/search/index.py);
this revision gives both databases an index that yields them without a sweep:

- SQLite: the FTS5 tables are rebuilt with prefix indexes for 2, 3 and 4 characters (0006 had
  2 and 3). A 4-character prefix such as `conf` otherwise merges the lists of every term that
  starts with it, on each keystroke (measured: 30 ms of a 35 ms query at 500,000 messages;
  under 2 ms with the index). FTS5 cannot change a table's prefix option in place, so the
  tables, their triggers and their contents are made again, as 0006 made them.
- PostgreSQL: a btree on (user_id, created_at, id) over the indexed (user and assistant) rows.
  For a common word the plan walks it backwards, checks each row and stops after the window,
  reading only the owner's rows; before, it walked the primary key backwards, crossing every
  other user's newer messages first (measured: 35 of 46 ms with a second user's 50,000 rows).
  And ten times the default statistics on `messages.search_vector`: the planner picks between
  that walk and the GIN index by how many rows it expects a word to match, and with the
  default sample it guessed a third of a mid-frequency word's 6,000 matches, chose the GIN
  index and read all of them (80-130 ms; the walk takes 30-60). ANALYZE samples more rows for
  it, a few seconds at 500,000 messages.

As 0006 says, a later migration that batch-alters `messages` or `agent_sessions` on SQLite
loses the triggers: it must run `sqlite_search("2 3 4")` of this revision's statements again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED_ROLES = "('user', 'assistant')"


def sqlite_search(prefix: str) -> list[str]:
    """Revision 0006's FTS5 tables and triggers, with the given prefix indexes, refilled."""
    tokenize = f"tokenize='unicode61 remove_diacritics 2', prefix='{prefix}'"
    return [
        "CREATE VIRTUAL TABLE search_messages USING fts5("
        f" user_id, content, content='messages', content_rowid='id', {tokenize})",
        f"CREATE TRIGGER search_messages_ai AFTER INSERT ON messages"
        f" WHEN new.role IN {INDEXED_ROLES} BEGIN"
        " INSERT INTO search_messages(rowid, user_id, content)"
        " VALUES (new.id, new.user_id, new.content); END",
        f"CREATE TRIGGER search_messages_ad AFTER DELETE ON messages"
        f" WHEN old.role IN {INDEXED_ROLES} BEGIN"
        " INSERT INTO search_messages(search_messages, rowid, user_id, content)"
        " VALUES ('delete', old.id, old.user_id, old.content); END",
        "CREATE TRIGGER search_messages_au AFTER UPDATE ON messages BEGIN"
        " INSERT INTO search_messages(search_messages, rowid, user_id, content)"
        f" SELECT 'delete', old.id, old.user_id, old.content WHERE old.role IN {INDEXED_ROLES};"
        " INSERT INTO search_messages(rowid, user_id, content)"
        f" SELECT new.id, new.user_id, new.content WHERE new.role IN {INDEXED_ROLES}; END",
        f"CREATE VIRTUAL TABLE search_titles USING fts5(user_id, session_id, title, {tokenize})",
        "CREATE TRIGGER search_titles_ai AFTER INSERT ON agent_sessions BEGIN"
        " INSERT INTO search_titles(user_id, session_id, title)"
        " VALUES (new.user_id, new.id, new.title); END",
        "CREATE TRIGGER search_titles_ad AFTER DELETE ON agent_sessions BEGIN"
        " DELETE FROM search_titles WHERE rowid IN (SELECT rowid FROM search_titles"
        " WHERE search_titles MATCH 'session_id:\"' || old.id || '\"'); END",
        "CREATE TRIGGER search_titles_au AFTER UPDATE OF title, user_id ON agent_sessions BEGIN"
        " DELETE FROM search_titles WHERE rowid IN (SELECT rowid FROM search_titles"
        " WHERE search_titles MATCH 'session_id:\"' || old.id || '\"');"
        " INSERT INTO search_titles(user_id, session_id, title)"
        " VALUES (new.user_id, new.id, new.title); END",
        # Oldest first, so the rowids of titles keep their order (newest = largest).
        "INSERT INTO search_messages(rowid, user_id, content)"
        f" SELECT id, user_id, content FROM messages WHERE role IN {INDEXED_ROLES} ORDER BY id",
        "INSERT INTO search_titles(user_id, session_id, title)"
        " SELECT user_id, id, title FROM agent_sessions ORDER BY last_activity_at",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_titles_au",
    "DROP TRIGGER IF EXISTS search_titles_ad",
    "DROP TRIGGER IF EXISTS search_titles_ai",
    "DROP TABLE IF EXISTS search_titles",
    "DROP TRIGGER IF EXISTS search_messages_au",
    "DROP TRIGGER IF EXISTS search_messages_ad",
    "DROP TRIGGER IF EXISTS search_messages_ai",
    "DROP TABLE IF EXISTS search_messages",
]

POSTGRES_UP = [
    "CREATE INDEX ix_search_messages_recent ON messages (user_id, created_at, id)"
    " WHERE search_vector IS NOT NULL",
    "ALTER TABLE messages ALTER COLUMN search_vector SET STATISTICS 1000",
]

POSTGRES_DOWN = [
    "ALTER TABLE messages ALTER COLUMN search_vector SET STATISTICS -1",
    "DROP INDEX IF EXISTS ix_search_messages_recent",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        statements = SQLITE_DROP + sqlite_search("2 3 4")
    else:
        statements = POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        statements = SQLITE_DROP + sqlite_search("2 3")
    else:
        statements = POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)

"""search: full-text indexes over session titles and message text

Two implementations of one index (see compymac_rx/search/index.py):

- SQLite: two FTS5 tables. `search_messages` is an external-content index over `messages`
  (the text is not stored twice); `search_titles` keeps its own copy of each title (small).
  Triggers keep both current on every insert, update and delete, so no write path and no side
  script has to remember them. The owner's id is an indexed column of each: a query matches
  `user_id:"<id>" AND (...)`, so the index itself narrows to the owner's rows.
- PostgreSQL: a stored generated `tsvector` column (`search_vector`) on each table with a GIN
  index; the database computes it on every write. No model declares it (Alembic's
  autogenerate skips `search_*` names, see alembic/env.py).

Only user and assistant messages are indexed (tool output is noise for finding a conversation).
The 'simple' configuration (no stemming) and FTS5's unicode61 tokenizer split words alike, so
both databases find the same sessions for the same words. Every word is searched as a prefix
(results while typing); FTS5 keeps prefix indexes for 2 and 3 characters, without which a
short prefix merges thousands of terms' lists (measured: 1 s at 500,000 messages).

SQLite batch migrations recreate a table and lose its triggers: a later migration that runs
`batch_alter_table` on `messages` or `agent_sessions` must call `create_sqlite_search()` again.

Revision ID: 0006
Revises: 0005_signup_policy
Create Date: 2026-12-01 16:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005_signup_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED_ROLES = "('user', 'assistant')"

SQLITE_UP = [
    # External content: the index reads `messages` for its text; rowid = messages.id.
    "CREATE VIRTUAL TABLE search_messages USING fts5("
    " user_id, content, content='messages', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    f"CREATE TRIGGER search_messages_ai AFTER INSERT ON messages"
    f" WHEN new.role IN {INDEXED_ROLES} BEGIN"
    " INSERT INTO search_messages(rowid, user_id, content)"
    " VALUES (new.id, new.user_id, new.content); END",
    f"CREATE TRIGGER search_messages_ad AFTER DELETE ON messages"
    f" WHEN old.role IN {INDEXED_ROLES} BEGIN"
    " INSERT INTO search_messages(search_messages, rowid, user_id, content)"
    " VALUES ('delete', old.id, old.user_id, old.content); END",
    # One trigger, old row out before new row in (two triggers would fire newest first).
    "CREATE TRIGGER search_messages_au AFTER UPDATE ON messages BEGIN"
    " INSERT INTO search_messages(search_messages, rowid, user_id, content)"
    f" SELECT 'delete', old.id, old.user_id, old.content WHERE old.role IN {INDEXED_ROLES};"
    " INSERT INTO search_messages(rowid, user_id, content)"
    f" SELECT new.id, new.user_id, new.content WHERE new.role IN {INDEXED_ROLES}; END",
    # Titles: own content, keyed by the session id (an indexed column, so deletes find it).
    "CREATE VIRTUAL TABLE search_titles USING fts5("
    " user_id, session_id, title, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
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
    # What existed before this revision.
    "INSERT INTO search_messages(rowid, user_id, content)"
    f" SELECT id, user_id, content FROM messages WHERE role IN {INDEXED_ROLES}",
    "INSERT INTO search_titles(user_id, session_id, title)"
    " SELECT user_id, id, title FROM agent_sessions",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_titles_au",
    "DROP TRIGGER IF EXISTS search_titles_ad",
    "DROP TRIGGER IF EXISTS search_titles_ai",
    "DROP TABLE IF EXISTS search_titles",
    "DROP TRIGGER IF EXISTS search_messages_au",
    "DROP TRIGGER IF EXISTS search_messages_ad",
    "DROP TRIGGER IF EXISTS search_messages_ai",
    "DROP TABLE IF EXISTS search_messages",
]

# Punctuation becomes a space before parsing: PostgreSQL's parser would otherwise read
# `<script>…</script>` as markup and skip its text, and `host.name/path` as one token; with
# it, words split exactly as FTS5's unicode61 splits them.
_WORDS_ONLY = "regexp_replace({col}, '[^[:alnum:]]+', ' ', 'g')"

POSTGRES_UP = [
    "ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f" CASE WHEN role IN {INDEXED_ROLES}"
    f" THEN to_tsvector('simple'::regconfig, {_WORDS_ONLY.format(col='content')}) END) STORED",
    "CREATE INDEX ix_search_messages ON messages USING gin (search_vector)",
    "ALTER TABLE agent_sessions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f" to_tsvector('simple'::regconfig, {_WORDS_ONLY.format(col='title')})) STORED",
    "CREATE INDEX ix_search_titles ON agent_sessions USING gin (search_vector)",
]

POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_search_titles",
    "ALTER TABLE agent_sessions DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS ix_search_messages",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
]


def create_sqlite_search() -> None:
    for statement in SQLITE_DOWN + SQLITE_UP:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_search()
    else:
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)

"""Revisions 0006 and 0009 index what existed before them, and go down and up cleanly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from compymac_rx.chats import service as chats
from compymac_rx.db import get_engine, new_id
from compymac_rx.search import service as search
from tests.factories import make_user
from tests.search.test_service import conversation

ROOT = Path(__file__).resolve().parents[2]


def old_conversation(user_id: str, title: str, *texts: str) -> str:
    """`conversation` at an older revision: the session and its messages written with the
    columns every revision has (today's code writes and reads columns added later, such as
    0013's and 0014's)."""
    session_id = new_id()
    with get_engine().begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO agent_sessions (id, user_id, title, title_is_auto, workspace_path,"
                " archived, created_at, last_activity_at) VALUES (:id, :u, :t, false, :w,"
                " false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": session_id, "u": user_id, "t": title, "w": session_id},
        )
        for seq, text in enumerate(texts, 1):
            connection.execute(
                sa.text(
                    "INSERT INTO messages (session_id, user_id, seq, role, content, meta,"
                    " created_at) VALUES (:s, :u, :n, :r, :c, '{}', CURRENT_TIMESTAMP)"
                ),
                {"s": session_id, "u": user_id, "n": seq, "r": "user", "c": text},
            )
    return session_id


def indexed_sessions(word: str) -> set[str]:
    """The sessions whose messages the search index finds for `word` (as a prefix), read
    from the index itself (today's search code reads columns an older revision lacks)."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        sql = (
            "SELECT m.session_id FROM search_messages f JOIN messages m ON m.id = f.rowid"
            " WHERE search_messages MATCH 'content:' || :word || '*'"
        )
    else:
        sql = (
            "SELECT session_id FROM messages"
            " WHERE search_vector @@ to_tsquery('simple'::regconfig, :word || ':*')"
        )
    with engine.connect() as connection:
        return {str(row[0]) for row in connection.execute(sa.text(sql), {"word": word})}


def test_existing_sessions_are_indexed_on_upgrade(data_dir: Path) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    alice = make_user()  # at head: signing up writes an audit event (revision 0008)
    command.downgrade(config, "0005_signup_policy")
    get_engine().dispose()
    session_id = old_conversation(alice.id, "Before search existed", "an old wombat story")
    command.upgrade(config, "head")
    get_engine().dispose()
    assert [h.session_id for h in search.search(alice.id, "wombat")] == [session_id]
    assert [h.session_id for h in search.search(alice.id, "existed")] == [session_id]


def test_0009_rebuilds_the_indexes_and_goes_back(data_dir: Path) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    alice = make_user()
    older = conversation(alice.id, "Configuration notes", "configure the conference room")
    engine = get_engine()

    def search_index() -> str:
        """SQLite: how search_messages was made; PostgreSQL: the recency index's definition."""
        with engine.connect() as c:
            if engine.dialect.name == "sqlite":
                sql = "SELECT sql FROM sqlite_master WHERE name = 'search_messages'"
            else:
                sql = (
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_search_messages_recent'"
                )
            return str(c.execute(sa.text(sql)).scalar() or "")

    def statistics_target() -> int | None:
        with engine.connect() as c:
            value = c.execute(
                sa.text(
                    "SELECT attstattarget FROM pg_attribute"
                    " WHERE attrelid = 'messages'::regclass AND attname = 'search_vector'"
                )
            ).scalar()
            return None if value is None else int(value)

    at_head = "prefix='2 3 4'" if engine.dialect.name == "sqlite" else "user_id, created_at, id"
    assert at_head in search_index()
    if engine.dialect.name != "sqlite":
        assert statistics_target() == 1000
    command.downgrade(config, "0008")
    get_engine().dispose()
    if engine.dialect.name == "sqlite":
        assert "prefix='2 3'" in search_index()
    else:
        assert search_index() == "" and statistics_target() in (-1, None)
    newer = old_conversation(alice.id, "Conference", "the conference call")
    assert indexed_sessions("conf") == {older, newer}
    command.upgrade(config, "head")
    get_engine().dispose()
    assert at_head in search_index()
    # Kept current after the rebuild: new, renamed and old rows alike.
    newest = conversation(alice.id, "Other", "configuring again")
    hits = search.search(alice.id, "conf")
    assert {h.session_id for h in hits} == {older, newer, newest}
    assert [h.session_id for h in search.search(alice.id, "call")] == [newer]
    chats.rename_session(alice.id, older, "Quarterly review")
    assert [h.session_id for h in search.search(alice.id, "quarterly")] == [older]

"""Revision 0014 gives existing, linear histories their parents: each user message's parent is
the user message before it, so every turn has one version and the whole history is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from compymac_rx.chats import service as chats
from compymac_rx.db import get_engine
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.both_databases


def test_existing_histories_become_one_version_per_turn() -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    alice, bob = make_user(), make_user()
    mine, theirs = chats.create_session(alice.id).id, chats.create_session(bob.id).id
    command.downgrade(config, "0011")
    get_engine().dispose()
    rows = [
        (mine, alice.id, 1, "user", "q1"),
        (mine, alice.id, 2, "assistant", "a1"),
        (theirs, bob.id, 1, "user", "bob's"),
        (mine, alice.id, 3, "user", "q2"),
        (mine, alice.id, 4, "tool", "ran"),
        (mine, alice.id, 5, "user", "q3"),
    ]
    with get_engine().begin() as connection:
        for session_id, user_id, seq, role, content in rows:
            connection.execute(
                sa.text(
                    "INSERT INTO messages (session_id, user_id, seq, role, content, meta,"
                    " created_at) VALUES (:s, :u, :n, :r, :c, '{}', CURRENT_TIMESTAMP)"
                ),
                {"s": session_id, "u": user_id, "n": seq, "r": role, "c": content},
            )
    command.upgrade(config, "head")
    get_engine().dispose()
    with get_engine().connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT m.content, p.content, m.chosen, m.hidden FROM messages m"
                " LEFT JOIN messages p ON p.id = m.parent_id ORDER BY m.session_id, m.seq"
            )
        ).all()
    parents = {row[0]: row[1] for row in found}
    assert parents == {"q1": None, "a1": None, "q2": "q1", "ran": None, "q3": "q2", "bob's": None}
    assert all(bool(row[2]) and not bool(row[3]) for row in found)
    assert [m.content for m in chats.load_messages(alice.id, mine)] == [
        "q1",
        "a1",
        "q2",
        "ran",
        "q3",
    ]
    assert all(m.versions == () for m in chats.load_messages(alice.id, mine))

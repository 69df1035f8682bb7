"""The one-off claim of sessions without an owner (from a single-user install)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from compymac_rx.chats import service as chats
from compymac_rx.db import get_engine
from compymac_rx.ops.claim import main
from tests.factories import make_user

LEGACY = "legacyowner0000000000000000000000"[:32]


def insert_ownerless_session(data_dir: Path, session_id: str) -> Path:
    """Rows as an old single-user install left them: a user id that names no account."""
    folder = data_dir / "workspaces" / LEGACY / session_id
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("kept\n")
    engine = get_engine()
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        else:
            connection.exec_driver_sql("SET session_replication_role = replica")
        connection.execute(
            text(
                "INSERT INTO agent_sessions (id, user_id, title, title_is_auto, workspace_path,"
                " archived, created_at, last_activity_at) VALUES (:id, :user, 'Old work', false,"
                " :path, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": session_id, "user": LEGACY, "path": str(folder)},
        )
        connection.execute(
            text(
                "INSERT INTO messages (session_id, user_id, seq, role, content, meta, created_at)"
                " VALUES (:id, :user, 1, 'user', 'from before accounts', '{}', CURRENT_TIMESTAMP)"
            ),
            {"id": session_id, "user": LEGACY},
        )
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        else:
            connection.exec_driver_sql("SET session_replication_role = DEFAULT")
    return folder


def test_without_an_account_it_says_to_sign_up_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 1
    assert "sign up first" in capsys.readouterr().err


def test_the_first_account_claims_ownerless_sessions_with_history_and_files(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = make_user(), make_user()
    old = insert_ownerless_session(data_dir, "a" * 32)
    assert main(["--dry-run"]) == 0
    assert "would give 1 session(s) to " + first.email in capsys.readouterr().out
    assert chats.list_sessions(first.id) == []

    assert main([]) == 0
    assert f"gave 1 session(s) to {first.email}" in capsys.readouterr().out
    [claimed] = chats.list_sessions(first.id)
    assert claimed.title == "Old work"
    assert [m.content for m in chats.load_messages(first.id, claimed.id)] == [
        "from before accounts"
    ]
    assert chats.list_sessions(second.id) == []
    moved = data_dir / "workspaces" / first.id / claimed.id / "notes.txt"
    assert moved.read_text() == "kept\n" and not old.exists()
    assert main([]) == 0  # a second run finds nothing left
    assert "gave 0 session(s)" in capsys.readouterr().out


def test_an_email_picks_the_account(data_dir: Path) -> None:
    make_user()
    chosen = make_user("chosen@example.com")
    insert_ownerless_session(data_dir, "b" * 32)
    assert main(["--email", "Chosen@example.com"]) == 0
    assert len(chats.list_sessions(chosen.id)) == 1
    assert main(["--email", "nobody@example.com"]) == 1

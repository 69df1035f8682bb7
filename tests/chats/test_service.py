from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from compymac_rx.chats import service as chats
from compymac_rx.chats.models import DEFAULT_TITLE, Message
from compymac_rx.db import session_scope
from tests.factories import make_user, wait_for_job


def test_a_new_session_gets_its_own_workspace_folder(data_dir: Path) -> None:
    user = make_user()
    session = chats.create_session(user.id)
    folder = data_dir / "workspaces" / user.id / session.id
    assert folder.is_dir()
    assert session.title == DEFAULT_TITLE


def test_sessions_are_listed_by_last_activity() -> None:
    user = make_user()
    older = chats.create_session(user.id)
    newer = chats.create_session(user.id)
    assert [s.id for s in chats.list_sessions(user.id)] == [newer.id, older.id]
    job = chats.send_message(user.id, older.id, "help")
    wait_for_job(user.id, job)
    assert [s.id for s in chats.list_sessions(user.id)] == [older.id, newer.id]


def test_the_first_message_names_the_session() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    wait_for_job(user.id, chats.send_message(user.id, session.id, "\n  ls src  \nmore"))
    wait_for_job(user.id, chats.send_message(user.id, session.id, "help"))
    found = chats.get_session(user.id, session.id)
    assert found is not None and found.title == "ls src"


def test_a_long_first_message_gives_a_shortened_title() -> None:
    assert chats.auto_title("x" * 100).endswith("…")
    assert len(chats.auto_title("x" * 100)) == chats.AUTO_TITLE_CHARS


def test_rename_validates_the_title() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    with pytest.raises(chats.ChatError, match="empty"):
        chats.rename_session(user.id, session.id, "   ")
    with pytest.raises(chats.ChatError, match="at most 120"):
        chats.rename_session(user.id, session.id, "t" * 121)
    renamed = chats.rename_session(user.id, session.id, "  My   project ")
    assert renamed.title == "My project"
    wait_for_job(user.id, chats.send_message(user.id, session.id, "help"))
    assert chats.get_session(user.id, session.id).title == "My project"  # type: ignore[union-attr]


def test_archive_moves_a_session_to_the_archived_view_and_back() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    chats.set_archived(user.id, session.id, True)
    assert chats.list_sessions(user.id) == []
    assert [s.id for s in chats.list_sessions(user.id, archived=True)] == [session.id]
    chats.set_archived(user.id, session.id, False)
    assert [s.id for s in chats.list_sessions(user.id)] == [session.id]


def test_delete_removes_messages_jobs_and_the_workspace(data_dir: Path) -> None:
    user = make_user()
    session = chats.create_session(user.id)
    wait_for_job(user.id, chats.send_message(user.id, session.id, "write a.txt\nhello"))
    folder = data_dir / "workspaces" / user.id / session.id
    assert (folder / "a.txt").read_text() == "hello"
    assert chats.load_messages(user.id, session.id)  # positive control: there is history
    chats.delete_session(user.id, session.id)
    assert not folder.exists()
    assert chats.get_session(user.id, session.id) is None
    with session_scope() as db:
        assert db.exec(select(Message).where(Message.session_id == session.id)).all() == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "Type a message"), ("  \n ", "Type a message"), ("x" * 20_001, "at most")],
)
def test_bad_messages_are_refused_and_nothing_is_stored(text: str, problem: str) -> None:
    user = make_user()
    session = chats.create_session(user.id)
    with pytest.raises(chats.ChatError, match=problem):
        chats.send_message(user.id, session.id, text)
    assert chats.load_messages(user.id, session.id) == []
    assert chats.active_job(user.id, session.id) is None
    # Positive control: a good message the same way is stored.
    wait_for_job(user.id, chats.send_message(user.id, session.id, "ls"))
    assert chats.load_messages(user.id, session.id)[0].content == "ls"


def test_a_second_message_waits_for_the_running_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILTIN_STREAM_DELAY_MS", "50")
    from tests.conftest import clear_caches

    clear_caches()
    user = make_user()
    session = chats.create_session(user.id)
    job = chats.send_message(user.id, session.id, "tell me what you can do")
    with pytest.raises(chats.ChatError, match="still working"):
        chats.send_message(user.id, session.id, "again")
    assert chats.stop_turn(user.id, session.id)
    assert wait_for_job(user.id, job).status == "cancelled"


def test_history_pages_load_older_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HISTORY_PAGE_SIZE", "5")
    from tests.conftest import clear_caches

    clear_caches()
    user = make_user()
    session = chats.create_session(user.id)
    for n in range(4):
        wait_for_job(user.id, chats.send_message(user.id, session.id, f"note {n}"))
    newest = chats.load_messages(user.id, session.id)
    assert len(newest) == 5 and newest[-1].role == "assistant"
    older = chats.load_messages(user.id, session.id, before_seq=newest[0].seq)
    assert [m.seq for m in older] == [1, 2, 3]
    after = chats.load_messages(user.id, session.id, after_seq=2)
    assert [m.seq for m in after] == [3, 4, 5, 6, 7]


def test_a_turn_stores_the_tool_call_record_and_the_reply() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    job = chats.send_message(user.id, session.id, "ls")
    assert wait_for_job(user.id, job).status == "done"
    roles = [(m.role, m.meta.get("tool")) for m in chats.load_messages(user.id, session.id)]
    assert roles == [("user", None), ("tool", "list_files"), ("assistant", None)]
    tool = chats.load_messages(user.id, session.id)[1]
    assert isinstance(tool.meta["duration_ms"], int) and tool.meta["ok"] is True


def test_send_turn_returns_the_job_the_stored_message_and_the_title() -> None:
    user = make_user()
    session = chats.create_session(user.id)
    chats.set_archived(user.id, session.id, True)
    first = chats.send_turn(user.id, session.id, "  ls notes\nand more")
    assert first.title == "ls notes"
    assert first.message == chats.load_messages(user.id, session.id)[0]
    assert (first.message.seq, first.message.role, first.message.job_id) == (1, "user", None)
    # The returned job is this user's (not active_job: a fast worker may have finished it).
    assert chats.get_job(user.id, first.job_id) is not None
    assert [s.id for s in chats.list_sessions(user.id)] == [session.id]  # sending unarchives
    wait_for_job(user.id, first.job_id)
    # ...and it ran in this session: the turn's records there carry its id.
    assert {m.job_id for m in chats.load_messages(user.id, session.id)[1:]} == {first.job_id}
    second = chats.send_turn(user.id, session.id, "help")
    assert second.title == "ls notes"  # only the first message names the session
    assert second.message.seq == 4  # after the tool record and the reply
    wait_for_job(user.id, second.job_id)


def test_send_turn_to_a_session_that_is_not_yours_stores_nothing() -> None:
    owner, stranger = make_user(), make_user()
    session = chats.create_session(owner.id)
    with pytest.raises(chats.NotFound):
        chats.send_turn(stranger.id, session.id, "help")
    assert chats.load_messages(owner.id, session.id) == []
    assert chats.active_job(owner.id, session.id) is None
    # Positive control: the owner's same turn is stored.
    wait_for_job(owner.id, chats.send_turn(owner.id, session.id, "help").job_id)
    assert chats.load_messages(owner.id, session.id)[0].content == "help"

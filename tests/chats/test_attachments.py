"""Attached files: checked when sent, stored with the message, read into the model's request.

The turns run for real (chats.turns.run_job) against the local fake provider through the
openai SDK; each test reads back the request the fake server received.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from compymac_rx.agent.context import estimate_tokens
from compymac_rx.chats import attachments, turns
from compymac_rx.chats import service as chats
from compymac_rx.chats.models import HistoryRow
from compymac_rx.files import service as files
from compymac_rx.jobs.work import Claim
from compymac_rx.settings import get_settings
from tests.conftest import clear_caches
from tests.factories import make_user
from tests.fake_openai import FakeOpenAI
from tests.jobs.test_turn_events import HeldRunner

# A real 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> HeldRunner:
    runner = HeldRunner()
    monkeypatch.setattr(chats, "get_runner", lambda: runner)
    return runner


def use_server_model(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI, model: str = "fake-small", **env: str
) -> None:
    """Every turn runs on MODEL_NAME at the fake provider (the server's model and key)."""
    monkeypatch.setenv("MODEL_BACKEND", "openai")
    monkeypatch.setenv("MODEL_BASE_URL", fake.url)
    monkeypatch.setenv("MODEL_NAME", model)
    monkeypatch.setenv("MODEL_API_KEY", "sk-test-server-key")
    monkeypatch.setenv("MODEL_MAX_RETRIES", "0")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_caches()


def workspace(user_id: str, session_id: str) -> Path:
    return Path(files.workspace_of(user_id, session_id))


def run_turn_of(held: HeldRunner, user_id: str) -> None:
    assert turns.run_job(held.submitted[-1]) is Claim.STARTED
    job = chats.get_job(user_id, held.submitted[-1])
    assert job is not None and job.status == "done", job


def test_a_text_file_within_the_budget_reaches_the_model_whole(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, held: HeldRunner
) -> None:
    use_server_model(monkeypatch, fake_openai)
    user = make_user()
    session = chats.create_session(user.id)
    body = "def area(r):\n    return 3.14 * r * r\n"
    files.save_upload(user.id, session.id, "circle.py", body.encode())
    sent = chats.send_turn(user.id, session.id, "What does this do?", attach=["circle.py"])
    [stored] = sent.message.meta["attachments"]
    assert (stored["path"], stored["name"], stored["size"]) == ("circle.py", "circle.py", len(body))
    assert stored["media_type"].startswith("text/")  # text/x-python by the system's table
    run_turn_of(held, user.id)
    text = fake_openai.last_user_content()
    assert isinstance(text, str)
    assert text.startswith("What does this do?")
    assert f"----- begin circle.py -----\n{body}\n----- end circle.py -----" in text
    assert "TRUNCATED" not in text
    # Stored with the message: history shows it after a reload.
    [user_message] = [m for m in chats.load_messages(user.id, session.id) if m.role == "user"]
    assert user_message.meta["attachments"][0]["path"] == "circle.py"


def test_a_text_file_over_the_budget_is_cut_and_the_model_is_told(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, held: HeldRunner
) -> None:
    use_server_model(
        monkeypatch, fake_openai, MODEL_CONTEXT_TOKENS="4096", MODEL_MAX_OUTPUT_TOKENS="512"
    )
    user = make_user()
    session = chats.create_session(user.id)
    lines = [f"line {n:05d} of the log\n" for n in range(3000)]  # ~66,000 characters
    files.save_upload(user.id, session.id, "big.log", "".join(lines).encode())
    chats.send_turn(user.id, session.id, "Summarise the log", attach=["big.log"])
    run_turn_of(held, user.id)
    text = fake_openai.last_user_text()
    assert lines[0] in text and lines[100] in text
    assert lines[-1] not in text
    assert "big.log was TRUNCATED: only its first" in text
    assert f"(the file has {len(''.join(lines)):,} bytes)" in text
    # The whole request fits the window the settings give (tools and output included).
    request = fake_openai.chat_requests()[-1].body
    settings = get_settings()
    sent = sum(estimate_tokens(str(m["content"])) + 4 for m in request["messages"])
    tools = estimate_tokens(str(request["tools"]))
    assert sent + tools <= settings.model_context_tokens - settings.model_max_output_tokens
    # Control: with a roomy window the same file goes whole.
    use_server_model(monkeypatch, fake_openai, MODEL_CONTEXT_TOKENS="100000")
    chats.send_turn(user.id, session.id, "Again", attach=["big.log"])
    run_turn_of(held, user.id)
    assert lines[-1] in fake_openai.last_user_text()
    assert "TRUNCATED" not in fake_openai.last_user_text()


def test_an_image_is_an_image_part_for_a_vision_model(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, held: HeldRunner
) -> None:
    use_server_model(monkeypatch, fake_openai, "fake-large", MODEL_VISION_MODELS="fake-large")
    user = make_user()
    session = chats.create_session(user.id)
    files.save_upload(user.id, session.id, "dot.png", PNG)
    chats.send_turn(user.id, session.id, "What colour?", attach=["dot.png"])
    run_turn_of(held, user.id)
    content = fake_openai.last_user_content()
    assert isinstance(content, list)
    assert content[0]["type"] == "text"
    assert content[0]["text"].startswith("What colour?")
    assert content[1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
    }


def test_a_model_without_vision_is_told_an_image_was_attached(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, held: HeldRunner
) -> None:
    use_server_model(monkeypatch, fake_openai, "fake-small", MODEL_VISION_MODELS="fake-large")
    user = make_user()
    session = chats.create_session(user.id)
    files.save_upload(user.id, session.id, "dot.png", PNG)
    chats.send_turn(user.id, session.id, "What colour?", attach=["dot.png"])
    run_turn_of(held, user.id)
    content = fake_openai.last_user_content()
    assert isinstance(content, str)
    assert "An image was attached (dot.png), but this model cannot see images" in content
    assert base64.b64encode(PNG).decode()[:20] not in str(fake_openai.chat_requests()[-1].body)


def test_a_file_deleted_before_the_turn_is_named_with_a_note(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, held: HeldRunner
) -> None:
    use_server_model(monkeypatch, fake_openai)
    user = make_user()
    session = chats.create_session(user.id)
    files.save_upload(user.id, session.id, "gone.txt", b"soon gone")
    chats.send_turn(user.id, session.id, "Read it", attach=["gone.txt"])
    files.delete_path(user.id, session.id, "gone.txt")
    run_turn_of(held, user.id)
    text = fake_openai.last_user_text()
    assert "[Attached file gone.txt: no longer in the workspace]" in text
    assert "soon gone" not in text


def test_another_users_session_and_files_are_unreachable(held: HeldRunner) -> None:
    owner, other = make_user(), make_user()
    session = chats.create_session(owner.id)
    files.save_upload(owner.id, session.id, "secret.txt", b"owner's secret")
    # The owner's control: the same call attaches it.
    sent = chats.send_turn(owner.id, session.id, "mine", attach=["secret.txt"])
    assert sent.message.meta["attachments"][0]["name"] == "secret.txt"
    with pytest.raises(chats.NotFound):
        chats.send_turn(other.id, session.id, "theirs", attach=["secret.txt"])
    with pytest.raises(chats.NotFound):
        chats.load_messages(other.id, session.id)
    # From the other user's own session, the owner's folder is out of reach too.
    own = chats.create_session(other.id)
    climb = f"../../{owner.id}/{session.id}/secret.txt"
    with pytest.raises(chats.ChatError, match="outside the workspace"):
        chats.send_turn(other.id, own.id, "climb", attach=[climb])
    assert [m.content for m in chats.load_messages(other.id, own.id)] == []


def test_path_escapes_and_links_are_refused(held: HeldRunner, tmp_path: Path) -> None:
    user = make_user()
    session = chats.create_session(user.id)
    folder = workspace(user.id, session.id)
    outside = tmp_path / "outside.txt"
    outside.write_text("not for the model")
    os.symlink(outside, folder / "link.txt")
    files.save_upload(user.id, session.id, "fine.txt", b"fine")
    refusals = {
        "../outside.txt": "outside the workspace",
        "/etc/passwd": "absolute",
        "link.txt": "symbolic link",
        "sub/../../x": "outside the workspace",
        ".": "not a file",
    }
    for path, reason in refusals.items():
        with pytest.raises(chats.ChatError, match=reason):
            chats.send_turn(user.id, session.id, "x", attach=[path])
    # Nothing was stored by the refusals; a plain file still attaches.
    assert chats.load_messages(user.id, session.id) == []
    assert chats.send_turn(user.id, session.id, "ok", attach=["fine.txt"]).message.meta


def test_too_many_too_big_binary_and_missing_files_are_refused_plainly(
    monkeypatch: pytest.MonkeyPatch, held: HeldRunner
) -> None:
    monkeypatch.setenv("ATTACHMENTS_PER_MESSAGE", "2")
    monkeypatch.setenv("ATTACHMENT_MAX_BYTES", "1000")
    clear_caches()
    user = make_user()
    session = chats.create_session(user.id)
    for name in ("a.txt", "b.txt", "c.txt"):
        files.save_upload(user.id, session.id, name, b"text")
    files.save_upload(user.id, session.id, "big.txt", b"x" * 1001)
    files.save_upload(user.id, session.id, "blob.bin", b"\x00\x01\x02")
    files.save_upload(user.id, session.id, "doc.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    cases = {
        ("a.txt", "b.txt", "c.txt"): "Too many attachments: a message can carry at most 2",
        ("big.txt",): r"big.txt is too big to attach: 1,001 bytes \(at most 1,000\)",
        ("blob.bin",): "blob.bin is a binary file",
        ("doc.pdf",): "doc.pdf is a binary file: only text files and PNG, JPEG, GIF or WebP",
        ("nope.txt",): "nope.txt is no longer in the workspace",
    }
    for paths, message in cases.items():
        with pytest.raises(chats.ChatError, match=message):
            chats.send_turn(user.id, session.id, "x", attach=list(paths))
    # Control: two small text files, and the same one twice counts once.
    sent = chats.send_turn(user.id, session.id, "", attach=["a.txt", "b.txt", "a.txt"])
    assert [a["path"] for a in sent.message.meta["attachments"]] == ["a.txt", "b.txt"]
    assert sent.title == "a.txt, b.txt"  # no text: the files name the session


def test_the_builtin_agent_names_the_attachments(held: HeldRunner) -> None:
    user = make_user()
    session = chats.create_session(user.id)
    files.save_upload(user.id, session.id, "notes.md", b"# Notes")
    chats.send_turn(user.id, session.id, "", attach=["notes.md"])
    run_turn_of(held, user.id)
    replies = [m.content for m in chats.load_messages(user.id, session.id)]
    assert any(r.startswith("Attached: `notes.md`.") for r in replies), replies


def test_reading_stops_where_the_context_window_is_full(
    monkeypatch: pytest.MonkeyPatch, held: HeldRunner
) -> None:
    monkeypatch.setenv("MODEL_CONTEXT_TOKENS", "1024")  # 4,096 characters of text in all
    monkeypatch.setenv("MODEL_MAX_OUTPUT_TOKENS", "256")
    clear_caches()
    user = make_user()
    session = chats.create_session(user.id)
    files.save_upload(user.id, session.id, "old.txt", b"o" * 3000)
    files.save_upload(user.id, session.id, "new.txt", b"n" * 3000)
    older = chats.send_turn(user.id, session.id, "first", attach=["old.txt"]).message
    run_turn_of(held, user.id)  # the builtin agent: one turn at a time
    newer = chats.send_turn(user.id, session.id, "second", attach=["new.txt"]).message
    run_turn_of(held, user.id)
    rows = [HistoryRow(m.id, m.role, m.content, m.meta) for m in (older, newer)]
    found = attachments.read_for_history(str(workspace(user.id, session.id)), rows)
    [new] = found[newer.id]
    assert new.text == "n" * 3000 and not new.note  # the newest first, whole
    [old] = found[older.id]
    assert old.text == "o" * 1096 and old.cut_at_read  # what room was left
    files.save_upload(user.id, session.id, "third.txt", b"t" * 1100)
    third = chats.send_turn(user.id, session.id, "third", attach=["third.txt"]).message
    run_turn_of(held, user.id)
    rows.append(HistoryRow(third.id, third.role, third.content, third.meta))
    found = attachments.read_for_history(str(workspace(user.id, session.id)), rows)
    assert found[older.id][0].note.startswith("left out: newer attached files already fill")

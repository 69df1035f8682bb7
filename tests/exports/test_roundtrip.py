"""Export then import gives the same conversation; bad files store nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from compymac_rx.chats import service as chats
from compymac_rx.exports import importer
from compymac_rx.exports import service as exports
from compymac_rx.exports.models import ExportTooLarge, ImportFailed
from compymac_rx.files import service as files
from tests.factories import make_user, wait_for_job


def worked_session(user_id: str, *texts: str) -> str:
    session_id = chats.create_session(user_id).id
    for text in texts:
        wait_for_job(user_id, chats.send_message(user_id, session_id, text))
    return session_id


def comparable(user_id: str, session_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    export = exports.export_session(user_id, session_id)
    return [(m.role, m.content, m.meta) for m in export.messages]


def test_a_session_round_trips_through_json() -> None:
    alice, bob = make_user(), make_user()
    session_id = worked_session(alice.id, "write notes.txt\nhello ```fenced```", "run echo hi")
    chats.rename_session(alice.id, session_id, "Notes")
    data = exports.session_json(alice.id, session_id)

    [new_id] = importer.import_file(bob.id, "notes.json", data)

    assert new_id != session_id
    assert comparable(bob.id, new_id) == comparable(alice.id, session_id)
    assert any(role == "tool" for role, _, _ in comparable(bob.id, new_id))
    imported = chats.get_session(bob.id, new_id)
    assert imported is not None and imported.title == "Notes"
    assert chats.get_session(alice.id, new_id) is None
    # Imported history is a normal session: the agent continues it.
    wait_for_job(bob.id, chats.send_message(bob.id, new_id, "ls"))


def test_markdown_is_readable_with_tool_calls_fenced() -> None:
    alice = make_user()
    session_id = worked_session(alice.id, "write a.txt\n```\nnot a fence end")
    chats.rename_session(alice.id, session_id, "Fences")
    text = exports.session_markdown(alice.id, session_id)
    assert text.startswith("# Fences\n")
    assert "## User · " in text and "### Tool: write_file · ok" in text
    assert "````text" in text or "````json" in text  # longer than the ``` inside
    assert "```json\n{\n" in text or "````json\n{\n" in text


def test_the_account_zip_round_trips_with_workspace_files() -> None:
    alice, bob = make_user(), make_user()
    first = worked_session(alice.id, "write src/main.py\nprint('hi')")
    second = worked_session(alice.id, "run echo two")
    chats.set_archived(alice.id, second, True)
    plan = exports.plan_account_export(alice.id)
    data = b"".join(exports.account_zip(alice.id, plan))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert f"workspaces/{first}/src/main.py" in names and "account.json" in names

    new_ids = importer.import_file(bob.id, "account.zip", data)

    assert len(new_ids) == 2
    by_title = {chats.get_session(bob.id, i).title: i for i in new_ids}  # type: ignore[union-attr]
    copy = by_title[chats.get_session(alice.id, first).title]  # type: ignore[union-attr]
    assert comparable(bob.id, copy) == comparable(alice.id, first)
    assert [e.path for e in files.list_tree(bob.id, copy)] == ["src", "src/main.py"]
    assert files.preview(bob.id, copy, "src/main.py").text == "print('hi')"
    assert {s.id for s in chats.list_sessions(bob.id, archived=True)} == set(new_ids) - {copy}


def test_exports_are_owner_only() -> None:
    alice, bob = make_user(), make_user()
    session_id = worked_session(alice.id, "run echo mine")
    with pytest.raises(chats.NotFound):
        exports.session_json(bob.id, session_id)
    with pytest.raises(chats.NotFound):
        exports.session_markdown(bob.id, session_id)
    assert exports.plan_account_export(bob.id).session_ids == []
    # Positive control: the owner, asking the same way, gets the session.
    assert json.loads(exports.session_json(alice.id, session_id))["session"]["id"] == session_id
    assert exports.plan_account_export(alice.id).session_ids == [session_id]


def test_an_export_over_the_limit_is_refused_before_it_starts(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("EXPORT_MAX_MB", "1")
    from tests.conftest import clear_caches

    clear_caches()
    alice = make_user()
    session_id = chats.create_session(alice.id).id
    workspace = files.workspace_of(alice.id, session_id)
    (workspace / "big.bin").write_bytes(b"x" * 1_200_000)
    with pytest.raises(ExportTooLarge, match="limit is 1 MB"):
        exports.plan_account_export(alice.id)


def _count(user_id: str) -> int:
    return len(chats.list_sessions(user_id)) + len(chats.list_sessions(user_id, archived=True))


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def _valid_session_json() -> bytes:
    alice = make_user()
    return exports.session_json(alice.id, worked_session(alice.id, "run echo x"))


@pytest.mark.parametrize(
    ("name", "build", "message"),
    [
        ("not json", lambda: b"{nope", "not valid JSON"),
        ("other json", lambda: b'{"hello": 1}', "none of the formats"),
        (
            "bad field",
            lambda: _valid_session_json().replace(b'"role": "user"', b'"role": "wizard"', 1),
            "messages.0.role",
        ),
        ("bad zip", lambda: b"PK\x03\x04garbage", "not a readable zip"),
        (
            "zip slip",
            lambda: _zip(
                {
                    "account.json": json.dumps(
                        {
                            "format": "compymac-rx/account",
                            "version": 1,
                            "exported_at": "2026-01-01T00:00:00Z",
                            "sessions": ["a"],
                        }
                    ).encode(),
                    "sessions/a.json": _valid_session_json(),
                    "workspaces/a/../../escape.txt": b"x",
                }
            ),
            "unsafe path",
        ),
        ("no manifest", lambda: _zip({"sessions/a.json": b"{}"}), "no account.json"),
    ],
)
def test_a_bad_file_is_refused_with_a_reason_and_stores_nothing(
    name: str, build: Any, message: str, data_dir: Path
) -> None:
    data = build()
    bob = make_user()
    with pytest.raises(ImportFailed, match=message):
        importer.import_file(bob.id, name, data)
    assert _count(bob.id) == 0
    assert not list((data_dir / "workspaces").glob(f"{bob.id}/*"))
    # Positive control: a good file through the same importer is stored and counted.
    importer.import_file(bob.id, "good.json", _valid_session_json())
    assert _count(bob.id) == 1


def test_a_failure_midway_rolls_back_every_session_of_the_file(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    alice, bob = make_user(), make_user()
    worked_session(alice.id, "run echo one")
    worked_session(alice.id, "write f.txt\nx")
    data = b"".join(exports.account_zip(alice.id, exports.plan_account_export(alice.id)))
    calls = []
    real = importer.repository.insert_message

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer.repository, "insert_message", failing)
    with pytest.raises(RuntimeError):
        importer.import_file(bob.id, "account.zip", data)
    assert _count(bob.id) == 0
    assert not list((data_dir / "workspaces").glob(f"{bob.id}/*"))
    # Positive control: the same file without the failure imports both sessions.
    monkeypatch.setattr(importer.repository, "insert_message", real)
    assert len(importer.import_file(bob.id, "account.zip", data)) == 2 and _count(bob.id) == 2


def test_a_sessions_model_parameters_travel_with_it() -> None:
    alice, bob = make_user(), make_user()
    session_id = chats.create_session(alice.id).id
    chats.set_session_params(
        alice.id, session_id, system_prompt="Be brief.", temperature="0.4", max_tokens="500"
    )
    data = json.loads(exports.session_json(alice.id, session_id))
    [copied] = importer.import_file(bob.id, "brief.json", json.dumps(data).encode())
    assert chats.get_session_params(bob.id, copied) == chats.SessionParams("Be brief.", 0.4, 500)
    # From a server with a larger window: our limit decides, the rest is kept.
    data["session"]["max_output_tokens"] = 10**6
    [larger] = importer.import_file(bob.id, "big.json", json.dumps(data).encode())
    assert chats.get_session_params(bob.id, larger) == chats.SessionParams("Be brief.", 0.4, None)

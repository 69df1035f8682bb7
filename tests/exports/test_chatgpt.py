"""ChatGPT's conversations.json becomes plain sessions: the branch last seen, text only."""

from __future__ import annotations

import json

import pytest

from compymac_rx.chats import service as chats
from compymac_rx.exports import importer
from compymac_rx.exports.models import ImportFailed
from tests.factories import make_user


def node(node_id: str, parent: str | None, role: str, text: str, t: float, **extra: object) -> dict:
    return {
        "id": node_id,
        "parent": parent,
        "children": [],
        "message": {
            "id": node_id,
            "author": {"role": role},
            "create_time": t,
            "content": {"content_type": "text", "parts": [text]},
            "metadata": extra,
        },
    }


CONVERSATIONS = [
    {
        "title": "Regex help",
        "create_time": 1_700_000_000.0,
        "update_time": 1_700_000_500.0,
        "current_node": "a2",
        "mapping": {
            "root": {"id": "root", "parent": None, "children": ["sys"], "message": None},
            "sys": node("sys", "root", "system", "You are ChatGPT", 1_700_000_000.0),
            "u1": node("u1", "sys", "user", "How do I match digits?", 1_700_000_001.0),
            # An abandoned branch (regenerated): not part of the conversation as last seen.
            "a1": node("a1", "u1", "assistant", "old answer", 1_700_000_002.0),
            "a2": node("a2", "u1", "assistant", "Use \\d+ <script>", 1_700_000_003.0),
        },
    },
    {"title": "Empty", "create_time": 1_700_000_000.0, "mapping": {}, "current_node": None},
]


def test_conversations_import_as_plain_messages() -> None:
    bob = make_user()
    [session_id] = importer.import_file(
        bob.id, "conversations.json", json.dumps(CONVERSATIONS).encode()
    )
    session = chats.get_session(bob.id, session_id)
    assert session is not None and session.title == "Regex help"
    messages = chats.load_messages(bob.id, session_id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "How do I match digits?"),
        ("assistant", "Use \\d+ <script>"),
    ]


def test_a_list_of_something_else_is_refused() -> None:
    bob = make_user()
    with pytest.raises(ImportFailed, match="not ChatGPT"):
        importer.import_file(bob.id, "x.json", b'[{"a": 1}]')
    with pytest.raises(ImportFailed, match="no conversation"):
        importer.import_file(bob.id, "x.json", b"[]")
    assert chats.list_sessions(bob.id) == []
    # Positive control: a real conversations.json through the same importer is stored.
    importer.import_file(bob.id, "conversations.json", json.dumps(CONVERSATIONS).encode())
    assert [s.title for s in chats.list_sessions(bob.id)] == ["Regex help"]

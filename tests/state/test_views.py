from __future__ import annotations

from compymac_rx.chats.service import MessagePublic
from compymac_rx.state.views import message_view


def test_a_trace_row_becomes_a_timeline() -> None:
    meta = {
        "steps": [
            {
                "kind": "model",
                "name": "openai:m",
                "ms": 120,
                "prompt_tokens": 50,
                "completion_tokens": 9,
            },
            {"kind": "tool", "name": "write_file", "ms": 3, "ok": True},
            {"kind": "tool", "name": "run_command", "ms": 40, "ok": False},
            {"kind": "model", "name": "openai:m", "ms": 80},
        ],
        "total_ms": 243,
    }
    view = message_view(MessagePublic(7, 3, "trace", "", meta, "job"))
    assert view.role == "trace"
    assert view.duration == "4 steps · 243 ms"
    assert view.content.splitlines() == [
        "model  openai:m · 120 ms · 50 in / 9 out tokens",
        "tool   write_file · 3 ms · ok",
        "tool   run_command · 40 ms · failed",
        "model  openai:m · 80 ms",
    ]


def test_a_user_message_shows_its_attachments_as_chip_labels() -> None:
    meta = {
        "attachments": [
            {"path": "a/notes.md", "name": "notes.md", "size": 999, "media_type": "text/markdown"},
            {"path": "shot.png", "name": "shot.png", "size": 2_345_678, "media_type": "image/png"},
            {"path": "broken"},  # not a well-formed reference: left out, nothing breaks
        ]
    }
    view = message_view(MessagePublic(8, 4, "user", "look", meta, None))
    assert view.attachments == ["notes.md · 999 B", "shot.png · 2.3 MB"]
    assert message_view(MessagePublic(9, 5, "user", "plain", {}, None)).attachments == []

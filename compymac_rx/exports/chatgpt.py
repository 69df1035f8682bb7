"""ChatGPT's `conversations.json` (Settings → Data controls → Export) as plain messages.

The file is a list of conversations; each holds its messages as a tree (`mapping`: node id
-> {message, parent, children}) because edits and regenerations branch. The conversation as
last seen is the path from `current_node` up to the root. Only user and assistant text is
kept; system prompts, tool traffic, hidden messages and attachments are left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from compymac_rx.db import utcnow
from compymac_rx.exports import formats
from compymac_rx.exports.models import ImportFailed, ParsedSession

MAX_CONVERSATIONS = 10_000


def _time(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, int | float) and 0 < value < 10**11:
        return datetime.fromtimestamp(value, UTC)
    return fallback


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if not isinstance(content, dict):
        return ""
    if content.get("content_type") not in ("text", "multimodal_text"):
        return ""
    parts = content.get("parts")
    if not isinstance(parts, list):
        return ""
    return "\n".join(part for part in parts if isinstance(part, str)).strip()


def _branch(mapping: dict[str, Any], current: Any) -> list[dict[str, Any]]:
    """Messages from the root to `current` (or, without it, every message by time)."""
    if isinstance(current, str) and current in mapping:
        path: list[dict[str, Any]] = []
        seen: set[str] = set()
        node_id: Any = current
        while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
            seen.add(node_id)
            node = mapping[node_id]
            if not isinstance(node, dict):
                break
            if isinstance(node.get("message"), dict):
                path.append(node["message"])
            node_id = node.get("parent")
        return path[::-1]
    found = [
        node["message"]
        for node in mapping.values()
        if isinstance(node, dict) and isinstance(node.get("message"), dict)
    ]
    return sorted(found, key=lambda m: m.get("create_time") or 0)


def _conversation(value: Any, number: int) -> ParsedSession | None:
    if not isinstance(value, dict) or not isinstance(value.get("mapping"), dict):
        raise ImportFailed(
            f"Conversation {number} has no `mapping`: this is not ChatGPT's conversations.json."
        )
    created = _time(value.get("create_time"), utcnow())
    messages: list[formats.MessageRecord] = []
    for message in _branch(value["mapping"], value.get("current_node")):
        author = message.get("author")
        role = author.get("role") if isinstance(author, dict) else None
        metadata = message.get("metadata")
        hidden = isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation")
        text = _text(message)
        if role not in ("user", "assistant") or hidden or not text:
            continue
        messages.append(
            formats.MessageRecord(
                seq=len(messages) + 1,
                role=role,
                content=text,
                created_at=_time(message.get("create_time"), created),
            )
        )
    if not messages:
        return None
    title = value.get("title")
    title = " ".join(title.split())[:500] if isinstance(title, str) and title.strip() else ""
    record = formats.SessionRecord(
        id=str(value.get("id") or value.get("conversation_id") or number)[:64],
        title=title or "Imported from ChatGPT",
        created_at=created,
        last_activity_at=_time(value.get("update_time"), messages[-1].created_at),
    )
    return ParsedSession(record, messages)


def parse(conversations: list[Any]) -> list[ParsedSession]:
    if len(conversations) > MAX_CONVERSATIONS:
        raise ImportFailed(f"At most {MAX_CONVERSATIONS:,} conversations can be imported at once.")
    parsed = [_conversation(value, n) for n, value in enumerate(conversations, 1)]
    return [session for session in parsed if session is not None]

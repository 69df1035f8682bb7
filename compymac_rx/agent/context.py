"""Fitting a conversation into a model's context window.

The rule (documented in docs/architecture.md):
1. Tokens are estimated as ceil(characters / 4) + 4 per message; tool calls count their JSON.
2. The budget is MODEL_CONTEXT_TOKENS minus MODEL_MAX_OUTPUT_TOKENS minus the tool schemas.
3. The system prompt and the current turn (the last user message and everything after it)
   are always kept. Older turns are added newest first while they fit; the first one that
   does not fit and every turn before it are dropped whole, so a tool call never loses its
   result.
4. If the current turn alone is over budget, its tool results are cut (oldest first) to a
   short head with a marker until it fits, then the text files attached to its message are
   cut (each to its share of what is left, the note saying so); the provider reports
   anything still too long.
5. Attached files ride in their user message (agent.attachments renders them): text inline
   between markers, images as image parts for vision models (IMAGE_TOKENS each), a note for
   other models. An older turn with attachments is kept or dropped whole like any other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from compymac_rx.agent.attachments import IMAGE_TOKENS, user_message
from compymac_rx.agent.types import ChatItem

_PER_MESSAGE = 4
_CUT_KEEP_CHARS = 400
CUT_MARKER = "\n[cut to fit the model's context window]"


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def to_message(item: ChatItem, *, vision: bool = False) -> dict[str, Any]:
    """One conversation item in the chat-completions wire shape."""
    if item.attachments:
        return user_message(item, vision=vision)
    if item.role == "tool":
        return {"role": "tool", "tool_call_id": item.tool_call_id, "content": item.content}
    if item.role == "assistant" and item.tool_calls:
        return {
            "role": "assistant",
            "content": item.content or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in item.tool_calls
            ],
        }
    return {"role": item.role, "content": item.content}


def message_tokens(message: dict[str, Any]) -> int:
    content = message.get("content") or ""
    if isinstance(content, list):  # text and image parts
        size = sum(
            estimate_tokens(str(part.get("text", "")))
            if part.get("type") == "text"
            else IMAGE_TOKENS
            for part in content
        )
    else:
        size = estimate_tokens(str(content))
    if "tool_calls" in message:
        size += estimate_tokens(json.dumps(message["tool_calls"]))
    return size + _PER_MESSAGE


def _turns(items: Sequence[ChatItem]) -> list[list[ChatItem]]:
    turns: list[list[ChatItem]] = []
    for item in items:
        if item.role == "user" or not turns:
            turns.append([])
        turns[-1].append(item)
    return turns


def trim_to_window(
    system_prompt: str, conversation: Sequence[ChatItem], budget: int, *, vision: bool = False
) -> list[dict[str, Any]]:
    """The messages to send: system prompt, as many whole recent turns as fit, current turn.

    `vision`: the model is sent attached images (agent.vision decides which models are).
    """
    system = {"role": "system", "content": system_prompt}
    remaining = budget - message_tokens(system)
    turns = _turns(conversation)
    if not turns:
        return [system]
    current = [to_message(item, vision=vision) for item in turns[-1]]
    _fit_current(current, remaining)
    remaining -= _fit_attachments(turns[-1][0], current, remaining, vision)
    kept: list[list[dict[str, Any]]] = []
    for turn in reversed(turns[:-1]):
        messages = [to_message(item, vision=vision) for item in turn]
        cost = sum(message_tokens(m) for m in messages)
        if cost > remaining:
            break
        kept.append(messages)
        remaining -= cost
    older = [message for turn in reversed(kept) for message in turn]
    return [system, *older, *current]


def _fit_current(messages: list[dict[str, Any]], budget: int) -> int:
    """Cut the current turn's tool results, oldest first, until it fits; returns its cost."""
    cost = sum(message_tokens(m) for m in messages)
    for message in messages:
        if cost <= budget:
            break
        content = str(message.get("content") or "")
        if message["role"] != "tool" or len(content) <= _CUT_KEEP_CHARS:
            continue
        before = message_tokens(message)
        message["content"] = content[:_CUT_KEEP_CHARS] + CUT_MARKER
        cost -= before - message_tokens(message)
    return cost


def _fit_attachments(
    first: ChatItem, messages: list[dict[str, Any]], budget: int, vision: bool
) -> int:
    """Cut the text files attached to the current turn's message until the turn fits (each
    to its share of the room left); returns the turn's cost."""
    cost = sum(message_tokens(m) for m in messages)
    lengths = {
        index: len(a.text)
        for index, a in enumerate(first.attachments)
        if a.text is not None and not a.note
    }
    for _ in range(4):  # each pass also pays for the notes the cut adds; a few always do
        shown = sum(lengths.values())
        if cost <= budget or not shown:
            break
        keep = max(0, shown - (cost - budget) * 4 - 200 * len(lengths))
        lengths = {index: length * keep // shown for index, length in lengths.items()}
        messages[0] = user_message(first, vision=vision, text_limits=lengths)
        cost = sum(message_tokens(m) for m in messages)
    return cost

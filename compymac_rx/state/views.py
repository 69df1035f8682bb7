"""Plain shapes the UI renders. Built from service results; no Reflex, no database."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from compymac_rx import routes
from compymac_rx.chats.attachments import refs_of
from compymac_rx.chats.models import MessagePublic, SessionPublic
from compymac_rx.search.models import SearchHit, Snippet


@dataclasses.dataclass
class SessionItem:
    id: str
    title: str
    archived: bool
    when: str


@dataclasses.dataclass
class MessageView:
    id: int
    seq: int
    role: str
    content: str
    tool: str = ""
    args: str = ""
    duration: str = ""
    ok: bool = True
    running: bool = False
    call_id: str = ""
    # A tool's output is shown as a preview; the full text is fetched when asked for.
    truncated: bool = False
    # A user message's turn versions: "2/3" (empty: one version), and the ids of the
    # versions before and after it (0: none).
    version: str = ""
    prev_id: int = 0
    next_id: int = 0
    # A user message's attached files, as chip labels ("notes.md · 1.2 KB").
    attachments: list[str] = dataclasses.field(default_factory=list)
    # A tool call whose arguments the model is still writing (`args` shows them so far).
    preparing: bool = False
    # An assistant reply's reasoning, shown in a collapsed "Thinking" block above it.
    reasoning: str = ""


@dataclasses.dataclass
class SnippetPart:
    text: str
    hit: bool


@dataclasses.dataclass
class SearchResultView:
    session_id: str
    title: str
    when: str
    href: str
    # The snippet cut at its highlight ranges: each part is rendered as text (a hit in <mark>).
    parts: list[SnippetPart]


def snippet_parts(snippet: Snippet) -> list[SnippetPart]:
    parts: list[SnippetPart] = []
    at = 0
    for start, end in snippet.highlights:
        if start > at:
            parts.append(SnippetPart(snippet.text[at:start], False))
        parts.append(SnippetPart(snippet.text[start:end], True))
        at = end
    if at < len(snippet.text):
        parts.append(SnippetPart(snippet.text[at:], False))
    return parts


def search_result_view(hit: SearchHit) -> SearchResultView:
    href = routes.session_url(hit.session_id)
    if hit.seq is not None:
        href = routes.message_url(hit.session_id, hit.seq)
    when = hit.at.strftime("%Y-%m-%d") + (" · archived" if hit.archived else "")
    return SearchResultView(hit.session_id, hit.title, when, href, snippet_parts(hit.snippet))


def relative_time(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return moment.strftime("%Y-%m-%d")


def session_item(row: SessionPublic, now: datetime) -> SessionItem:
    return SessionItem(row.id, row.title, row.archived, relative_time(row.last_activity_at, now))


def format_args(args: object) -> str:
    if args == {}:
        return ""
    if isinstance(args, dict) and len(args) == 1:
        (value,) = args.values()
        if isinstance(value, str) and "\n" not in value:
            return value
    return json.dumps(args, ensure_ascii=False)


# How much of the system prompt the trace shows (the whole is in the stored trace).
TRACE_PROMPT_CHARS = 300
PROMPT_SOURCES = {"session": "this session's", "default": "your default", "builtin": "built-in"}


def params_lines(params: dict[str, Any]) -> list[str]:
    """What the turn sent besides the conversation: the parameters, then the system prompt."""
    temperature = params.get("temperature")
    max_tokens = params.get("max_tokens")
    settings = [
        "temperature " + ("default" if temperature is None else f"{temperature:g}"),
        "max tokens " + ("default" if max_tokens is None else str(max_tokens)),
    ]
    prompt = str(params.get("system_prompt", ""))
    if len(prompt) > TRACE_PROMPT_CHARS:
        prompt = prompt[:TRACE_PROMPT_CHARS].rstrip() + "…"
    source = PROMPT_SOURCES.get(str(params.get("prompt_source", "")), "")
    return [
        "params " + " · ".join(settings),
        f"system ({source} prompt) {prompt}",
    ]


def trace_lines(meta: dict[str, Any]) -> str:
    """The turn's parameters, then one line per step: model calls with tokens, tool calls
    with status."""
    lines = params_lines(meta["params"]) if isinstance(meta.get("params"), dict) else []
    for step in meta.get("steps", []) or []:
        if step.get("kind") == "model":
            tokens = ""
            if "prompt_tokens" in step:
                tokens = f" · {step['prompt_tokens']} in / {step['completion_tokens']} out tokens"
            lines.append(f"model  {step.get('name', '')} · {step.get('ms', 0)} ms{tokens}")
        else:
            status = "ok" if step.get("ok") else "failed"
            lines.append(f"tool   {step.get('name', '')} · {step.get('ms', 0)} ms · {status}")
    return "\n".join(lines)


# About 2 KB: enough to read a result at a glance; the whole output loads on request.
PREVIEW_CHARS = 2000


def preview(text: str) -> tuple[str, bool]:
    if len(text) <= PREVIEW_CHARS:
        return text, False
    return text[:PREVIEW_CHARS].rstrip() + "\n…", True


def message_view(message: MessagePublic) -> MessageView:
    if message.role == "trace":
        steps = len(message.meta.get("steps", []))
        total = f"{steps} steps · {int(message.meta.get('total_ms', 0))} ms"
        return MessageView(
            message.id, message.seq, "trace", trace_lines(message.meta), duration=total
        )
    if message.role == "user":
        chips = [attachment_label(r.name, r.size) for r in refs_of(message.meta)]
        if message.id not in message.versions:
            return MessageView(message.id, message.seq, "user", message.content, attachments=chips)
        at, count = message.versions.index(message.id), len(message.versions)
        return MessageView(
            message.id,
            message.seq,
            "user",
            message.content,
            version=f"{at + 1}/{count}",
            prev_id=message.versions[at - 1] if at > 0 else 0,
            next_id=message.versions[at + 1] if at + 1 < count else 0,
            attachments=chips,
        )
    if message.role == "assistant":
        reasoning = str(message.meta.get("reasoning", ""))
        return MessageView(
            message.id, message.seq, "assistant", message.content, reasoning=reasoning
        )
    if message.role != "tool":
        return MessageView(message.id, message.seq, message.role, message.content)
    meta = message.meta
    content, truncated = preview(message.content)
    args, _ = preview(format_args(meta.get("args", {})))
    return MessageView(
        message.id,
        message.seq,
        "tool",
        content,
        tool=str(meta.get("tool", "")),
        args=args,
        duration=f"{int(meta.get('duration_ms', 0))} ms",
        ok=bool(meta.get("ok", True)),
        truncated=truncated,
    )


def attachment_label(name: str, size: int) -> str:
    if size < 1000:
        amount = f"{size} B"
    elif size < 1_000_000:
        amount = f"{size / 1000:.1f} KB"
    else:
        amount = f"{size / 1_000_000:.1f} MB"
    return f"{name} · {amount}"


def preparing_tool_view(call_id: str, tool: str, raw_args: str) -> MessageView:
    """A tool card while the model writes the call's arguments: their tail so far."""
    shown = raw_args if len(raw_args) <= PREVIEW_CHARS else "…" + raw_args[-PREVIEW_CHARS:]
    return MessageView(0, 0, "tool", "", tool, shown, running=True, call_id=call_id, preparing=True)


def live_tool_view(call_id: str, tool: str, args: object) -> MessageView:
    """A tool card for a call still running; the stored record replaces it when it lands."""
    shown, _ = preview(format_args(args))
    return MessageView(0, 0, "tool", "", tool, shown, running=True, call_id=call_id)

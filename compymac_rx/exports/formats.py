"""The export formats: this app's JSON (one session) and a readable Markdown rendering.

The JSON shapes are pydantic models, so the importer validates a file against the very
definition the exporter writes; a bad file fails with the field that is wrong.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from compymac_rx.agent.params import MAX_SYSTEM_PROMPT_CHARS, MAX_TEMPERATURE

SESSION_FORMAT: Final = "compymac-rx/session"
ACCOUNT_FORMAT: Final = "compymac-rx/account"
VERSION: Final = 1
MAX_MESSAGES = 100_000
Role = Literal["user", "assistant", "tool", "error", "trace"]


class _Shape(BaseModel):
    # Unknown fields are ignored: a newer export still imports what this version knows.
    model_config = ConfigDict(extra="ignore", frozen=True)


class MessageRecord(_Shape):
    seq: int = Field(ge=1)
    role: Role
    content: str = Field(max_length=10_000_000)
    # Tool calls: call_id, tool, args, ok, duration_ms. Traces: steps, total_ms.
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    job_id: str | None = None


class SessionRecord(_Shape):
    id: str = Field(max_length=64)
    title: str = Field(min_length=1, max_length=500)
    archived: bool = False
    model: str = Field("", max_length=200)
    # The session's model parameters ("" / None: inherited; agent/params.py).
    system_prompt: str = Field("", max_length=MAX_SYSTEM_PROMPT_CHARS)
    temperature: float | None = Field(None, ge=0, le=MAX_TEMPERATURE)
    max_output_tokens: int | None = Field(None, ge=1)
    created_at: datetime
    last_activity_at: datetime


class SessionExport(_Shape):
    format: Literal["compymac-rx/session"]
    version: Literal[1]
    exported_at: datetime
    session: SessionRecord
    messages: list[MessageRecord] = Field(max_length=MAX_MESSAGES)


class AccountManifest(_Shape):
    format: Literal["compymac-rx/account"]
    version: Literal[1]
    exported_at: datetime
    sessions: list[str]


def session_json(export: SessionExport) -> bytes:
    return json.dumps(export.model_dump(mode="json"), ensure_ascii=False, indent=2).encode()


def _fence(text: str, info: str = "") -> str:
    """A fenced block longer than any backtick run inside, so content cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _tool_block(message: MessageRecord) -> str:
    meta = message.meta
    status = "ok" if meta.get("ok", True) else "failed"
    head = f"### Tool: {meta.get('tool', '?')} · {status} · {meta.get('duration_ms', 0)} ms"
    args = json.dumps(meta.get("args", {}), ensure_ascii=False, indent=2)
    return "\n\n".join([head, _fence(args, "json"), _fence(message.content, "text")])


def session_markdown(export: SessionExport) -> str:
    """The conversation for reading: text as written, tool calls and traces as fenced blocks."""
    info = export.session
    lines = [
        f"# {' '.join(info.title.split())}",
        "",
        f"- Session: `{info.id}`",
        f"- Model: {info.model or 'default'}",
        f"- Created: {_when(info.created_at)}; last activity: {_when(info.last_activity_at)}",
        f"- Exported: {_when(export.exported_at)}",
    ]
    for message in export.messages:
        lines.append("")
        if message.role == "tool":
            lines.append(_tool_block(message))
        elif message.role == "trace":
            steps = json.dumps(message.meta, ensure_ascii=False, indent=2)
            lines += ["### Trace", "", _fence(steps, "json")]
        else:
            label = {"user": "User", "assistant": "Assistant", "error": "Error"}[message.role]
            lines += [f"## {label} · {_when(message.created_at)}", "", message.content]
    return "\n".join(lines) + "\n"

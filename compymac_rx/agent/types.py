"""Shapes shared by the agent loop, the model backends and the job that drives them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, Literal, Protocol


@dataclasses.dataclass(frozen=True)
class ToolCall:
    """A model's request to run one tool."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class TextDelta:
    """A piece of the assistant's visible reply."""

    text: str


@dataclasses.dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), streamed before or beside the reply."""

    text: str


@dataclasses.dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call's JSON arguments as it streams; the whole `ToolCall` follows
    when the stream ends. `call_id` is the id the ToolCall will have."""

    call_id: str
    name: str
    arguments: str


@dataclasses.dataclass(frozen=True)
class ModelUsage:
    """Tokens one model call used, as the provider reported them (0 when it did not)."""

    prompt_tokens: int
    completion_tokens: int


ModelEvent = TextDelta | ReasoningDelta | ToolCallDelta | ToolCall | ModelUsage


class ModelError(Exception):
    """A provider refused or failed; the message is plain and safe to show in the chat."""


@dataclasses.dataclass(frozen=True)
class Attached:
    """A file attached to a user message, as read from the workspace for one model call.

    `text` for a text file (already capped), `image` (bytes) for an image; `note` instead of
    either when the file could not be included (gone, changed into something else...).
    """

    path: str
    media_type: str
    size: int
    text: str | None = None
    image: bytes = b""
    note: str = ""
    # The text was cut when read (FILE_READ_LIMIT); the context says so.
    cut_at_read: bool = False


@dataclasses.dataclass(frozen=True)
class ChatItem:
    """One entry of the conversation handed to a model.

    `tool` items carry the result of the call named by `tool_call_id`;
    `assistant` items may carry the tool calls the model made.
    """

    role: Literal["user", "assistant", "tool"]
    content: str
    tool_call_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    # Files the user attached to this message (user items only).
    attachments: tuple[Attached, ...] = ()


class ToolSpec(Protocol):
    """A tool as a model sees it (agent.tools.Tool is the one kind there is)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON schema of its arguments."""
        ...


@dataclasses.dataclass(frozen=True)
class ToolResult:
    """What a tool returned: its text output, and whether it succeeded."""

    output: str
    ok: bool = True


class ModelBackend(Protocol):
    """Turns a conversation into a stream of text deltas and tool calls."""

    def stream(
        self, conversation: Sequence[ChatItem], tools: Sequence[ToolSpec]
    ) -> Iterator[ModelEvent]: ...


class TurnSink(Protocol):
    """Where the loop reports progress; the job implements it (events + database)."""

    def text_delta(self, text: str) -> None: ...

    def reasoning_delta(self, text: str) -> None: ...

    def tool_call_delta(self, delta: ToolCallDelta) -> None: ...

    def tool_started(self, call: ToolCall) -> None: ...

    def tool_finished(self, call: ToolCall, result: ToolResult, duration_ms: int) -> None: ...

    def assistant_message(self, text: str, reasoning: str = "") -> None:
        """A step's reply, with the reasoning that came before it ("" when none)."""
        ...

    def model_call_finished(self, duration_ms: int, usage: ModelUsage | None) -> None: ...

    def cancelled(self) -> bool: ...

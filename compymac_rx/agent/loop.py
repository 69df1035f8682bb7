"""One agent turn: ask the model, run the tools it calls, repeat until it just answers."""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence

from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import (
    ChatItem,
    ModelBackend,
    ModelUsage,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    TurnSink,
)


class TurnOutcome(enum.StrEnum):
    DONE = "done"
    CANCELLED = "cancelled"
    STEP_LIMIT = "step_limit"


def run_turn(
    *,
    backend: ModelBackend,
    toolbox: Toolbox,
    history: Sequence[ChatItem],
    sink: TurnSink,
    max_steps: int,
) -> TurnOutcome:
    """Drive the model until it replies without tool calls, the user cancels, or max_steps.

    Each step's text (and the reasoning streamed before it) goes to `sink.assistant_message`
    once complete, also when the user cancels mid-stream, so what was shown is what gets
    kept. Backend errors propagate.
    """
    conversation = list(history)
    specs = toolbox.specs()
    for _ in range(max_steps):
        if sink.cancelled():
            return TurnOutcome.CANCELLED
        text_parts: list[str] = []
        reasoning_parts: list[str] = []
        calls: list[ToolCall] = []
        usage: ModelUsage | None = None
        model_started = time.monotonic()
        stream = backend.stream(conversation, specs)
        try:
            for event in stream:
                if sink.cancelled():
                    _finish_text(sink, text_parts, reasoning_parts)
                    return TurnOutcome.CANCELLED
                if isinstance(event, TextDelta):
                    if event.text:
                        text_parts.append(event.text)
                        sink.text_delta(event.text)
                elif isinstance(event, ReasoningDelta):
                    if event.text:
                        reasoning_parts.append(event.text)
                        sink.reasoning_delta(event.text)
                elif isinstance(event, ToolCallDelta):
                    sink.tool_call_delta(event)
                elif isinstance(event, ModelUsage):
                    usage = event
                else:
                    calls.append(event)
        finally:
            # Lets a backend release its HTTP stream when we stop early.
            close = getattr(stream, "close", None)
            if callable(close):
                close()
            sink.model_call_finished(_ms_since(model_started), usage)
        text = _finish_text(sink, text_parts, reasoning_parts)
        if sink.cancelled():  # a backend may end its stream early because of the stop
            return TurnOutcome.CANCELLED
        if not calls:
            return TurnOutcome.DONE
        conversation.append(ChatItem(role="assistant", content=text, tool_calls=tuple(calls)))
        for call in calls:
            if sink.cancelled():
                return TurnOutcome.CANCELLED
            sink.tool_started(call)
            started = time.monotonic()
            result = toolbox.call(call)
            sink.tool_finished(call, result, _ms_since(started))
            conversation.append(ChatItem(role="tool", content=result.output, tool_call_id=call.id))
    sink.assistant_message(f"Stopped after {max_steps} steps (the step limit).")
    return TurnOutcome.STEP_LIMIT


def _finish_text(sink: TurnSink, parts: list[str], reasoning_parts: list[str]) -> str:
    text, reasoning = "".join(parts), "".join(reasoning_parts)
    if text or reasoning:
        sink.assistant_message(text, reasoning)
    return text


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

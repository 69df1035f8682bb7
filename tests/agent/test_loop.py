from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from compymac_rx.agent.builtin import BuiltinBackend
from compymac_rx.agent.loop import TurnOutcome, run_turn
from compymac_rx.agent.sandbox import SandboxLimits
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import (
    ChatItem,
    ModelEvent,
    ModelUsage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolResult,
    ToolSpec,
)

LIMITS = SandboxLimits(
    timeout_seconds=10, cpu_seconds=10, memory_mb=512, max_processes=64, output_limit=2000
)


class RecordingSink:
    def __init__(self, cancel_after_deltas: int | None = None) -> None:
        self.events: list[tuple[str, Any]] = []
        self.cancel = False
        self._cancel_after_deltas = cancel_after_deltas

    def text_delta(self, text: str) -> None:
        self.events.append(("delta", text))
        deltas = sum(1 for kind, _ in self.events if kind == "delta")
        if self._cancel_after_deltas is not None and deltas >= self._cancel_after_deltas:
            self.cancel = True

    def reasoning_delta(self, text: str) -> None:
        self.events.append(("reasoning", text))

    def tool_call_delta(self, delta: ToolCallDelta) -> None:
        self.events.append(("tool_args", delta))

    def tool_started(self, call: ToolCall) -> None:
        self.events.append(("started", call))

    def tool_finished(self, call: ToolCall, result: ToolResult, duration_ms: int) -> None:
        assert duration_ms >= 0
        self.events.append(("finished", (call, result)))

    def assistant_message(self, text: str, reasoning: str = "") -> None:
        self.events.append(("message", text))
        if reasoning:
            self.events.append(("message_reasoning", reasoning))

    def model_call_finished(self, duration_ms: int, usage: ModelUsage | None) -> None:
        assert duration_ms >= 0
        self.events.append(("model_call", usage))

    def cancelled(self) -> bool:
        return self.cancel

    def of(self, kind: str) -> list[Any]:
        return [value for event_kind, value in self.events if event_kind == kind]


@pytest.fixture
def toolbox(tmp_path: Path) -> Toolbox:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return Toolbox(workspace, LIMITS, file_read_limit=10_000)


def turn(toolbox: Toolbox, message: str, sink: RecordingSink | None = None) -> RecordingSink:
    sink = sink or RecordingSink()
    outcome = run_turn(
        backend=BuiltinBackend(),
        toolbox=toolbox,
        history=[ChatItem(role="user", content=message)],
        sink=sink,
        max_steps=8,
    )
    assert outcome == TurnOutcome.DONE == "done"
    return sink


def test_write_then_cat_then_ls(toolbox: Toolbox) -> None:
    write = turn(toolbox, "write notes/todo.md\n- milk")
    assert [kind for kind, _ in write.events if kind != "delta"] == [
        "model_call",
        "started",
        "finished",
        "model_call",
        "message",
    ]
    assert write.of("message") == ["Wrote `notes/todo.md` (6 bytes)."]
    assert "".join(write.of("delta")) == write.of("message")[0]
    assert (toolbox.workspace / "notes" / "todo.md").read_text() == "- milk"

    cat = turn(toolbox, "cat notes/todo.md")
    assert cat.of("message") == ["Here is `notes/todo.md`:\n\n```\n- milk\n```"]
    (call, result) = cat.of("finished")[0]
    assert call == ToolCall("call_1", "read_file", {"path": "notes/todo.md"})
    assert result == ToolResult("- milk")

    ls = turn(toolbox, "ls notes")
    assert ls.of("message") == ["Here is `notes/`:\n\n```\ntodo.md  (6 bytes)\n```"]


def test_run_turn(toolbox: Toolbox) -> None:
    sink = turn(toolbox, "run echo hello from the sandbox")
    assert sink.of("message") == [
        "Ran `echo hello from the sandbox`:\n\n```\nhello from the sandbox\n\n[exit code 0]\n```"
    ]


def test_failed_tool_is_reported(toolbox: Toolbox) -> None:
    sink = turn(toolbox, "cat ../../etc/passwd")
    (_, result) = sink.of("finished")[0]
    assert not result.ok
    assert sink.of("message")[0].startswith("Could not read `../../etc/passwd`: ")


def test_plain_text_needs_no_tools(toolbox: Toolbox) -> None:
    sink = turn(toolbox, "hello there")
    assert sink.of("started") == []
    assert len(sink.of("message")) == 1


def test_cancel_while_streaming_keeps_what_was_shown(toolbox: Toolbox) -> None:
    sink = RecordingSink(cancel_after_deltas=2)
    outcome = run_turn(
        backend=BuiltinBackend(),
        toolbox=toolbox,
        history=[ChatItem(role="user", content="help")],
        sink=sink,
        max_steps=8,
    )
    assert outcome == TurnOutcome.CANCELLED
    assert len(sink.of("delta")) == 2
    assert sink.of("message") == ["".join(sink.of("delta"))]


class AlwaysCallsATool:
    """A backend that never stops asking for tools, and records what it was shown."""

    def __init__(self, sink: RecordingSink | None = None) -> None:
        self.seen: list[list[ChatItem]] = []
        self.sink = sink
        self.closed = 0

    def stream(
        self, conversation: Sequence[ChatItem], tools: Sequence[ToolSpec]
    ) -> Iterator[ModelEvent]:
        self.seen.append(list(conversation))
        step = len(self.seen)
        try:
            yield TextDelta(f"Looking, step {step}.")
            yield ToolCall(f"call_{step}", "list_files", {})
            if self.sink is not None:
                self.sink.cancel = True  # the user presses stop once the call is chosen
        finally:
            self.closed += 1


def test_step_limit(toolbox: Toolbox) -> None:
    backend = AlwaysCallsATool()
    sink = RecordingSink()
    outcome = run_turn(
        backend=backend,
        toolbox=toolbox,
        history=[ChatItem(role="user", content="go")],
        sink=sink,
        max_steps=3,
    )
    assert outcome == TurnOutcome.STEP_LIMIT
    assert len(sink.of("started")) == 3
    assert sink.of("message") == [
        "Looking, step 1.",
        "Looking, step 2.",
        "Looking, step 3.",
        "Stopped after 3 steps (the step limit).",
    ]
    second = backend.seen[1]
    assert second[1] == ChatItem(
        role="assistant",
        content="Looking, step 1.",
        tool_calls=(ToolCall("call_1", "list_files", {}),),
    )
    assert second[2] == ChatItem(role="tool", content="(empty)", tool_call_id="call_1")
    assert backend.closed == 3


def test_cancel_before_the_tool_runs(toolbox: Toolbox) -> None:
    sink = RecordingSink()
    backend = AlwaysCallsATool(sink)
    outcome = run_turn(
        backend=backend,
        toolbox=toolbox,
        history=[ChatItem(role="user", content="go")],
        sink=sink,
        max_steps=3,
    )
    assert outcome == TurnOutcome.CANCELLED
    assert sink.of("started") == []
    assert sink.of("message") == ["Looking, step 1."]


def test_already_cancelled_does_nothing(toolbox: Toolbox) -> None:
    sink = RecordingSink()
    sink.cancel = True
    backend = AlwaysCallsATool()
    outcome = run_turn(backend=backend, toolbox=toolbox, history=[], sink=sink, max_steps=3)
    assert outcome == TurnOutcome.CANCELLED
    assert backend.seen == []
    assert sink.events == []

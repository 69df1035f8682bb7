"""The real openai SDK path against the local fake provider."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from compymac_rx.agent.context import CUT_MARKER, trim_to_window
from compymac_rx.agent.loop import TurnOutcome, run_turn
from compymac_rx.agent.openai_backend import OpenAIBackend
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import (
    ChatItem,
    ModelError,
    ModelEvent,
    ModelUsage,
    TextDelta,
    ToolCall,
)
from tests.agent.test_loop import LIMITS, RecordingSink
from tests.fake_openai import FakeOpenAI, Reply

KEY = "sk-test-PLANTED-1234"


def backend(
    fake: FakeOpenAI, *, key: str = KEY, timeout: float = 10, sink: RecordingSink | None = None
) -> OpenAIBackend:
    return OpenAIBackend(
        should_stop=sink.cancelled if sink else None,
        base_url=fake.url,
        api_key=key,
        model="fake-small",
        context_window=8192,
        max_output_tokens=1024,
        timeout_seconds=timeout,
        max_retries=0,
    )


@pytest.fixture
def toolbox(tmp_path: Path) -> Toolbox:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return Toolbox(workspace, LIMITS, file_read_limit=10_000)


def run(fake: FakeOpenAI, toolbox: Toolbox, sink: RecordingSink, text: str = "hi") -> TurnOutcome:
    return run_turn(
        backend=backend(fake),
        toolbox=toolbox,
        history=[ChatItem("user", text)],
        sink=sink,
        max_steps=5,
    )


def test_two_tool_calls_then_a_streamed_answer(fake_openai: FakeOpenAI, toolbox: Toolbox) -> None:
    fake_openai.script(
        Reply(
            text=["Writing it."],
            tool_calls=[
                ("write_file", {"path": "hello.py", "content": "print('hi')\n"}),
                ("list_files", {}),
            ],
        ),
        Reply(text=["Done: ", "hello.py ", "is written."], prompt_tokens=50),
    )
    sink = RecordingSink()
    assert run(fake_openai, toolbox, sink, "write hello.py") == TurnOutcome.DONE
    assert (toolbox.workspace / "hello.py").read_text() == "print('hi')\n"
    started = sink.of("started")
    assert [c.name for c in started] == ["write_file", "list_files"]
    assert started[0].arguments == {"path": "hello.py", "content": "print('hi')\n"}
    finished = sink.of("finished")
    assert all(result.ok for _, result in finished)
    assert "hello.py" in finished[1][1].output
    assert sink.of("message") == ["Writing it.", "Done: hello.py is written."]
    assert sink.of("delta") == ["Writing it.", "Done: ", "hello.py ", "is written."]
    assert sink.of("model_call") == [ModelUsage(11, 7), ModelUsage(50, 7)]
    first, second = fake_openai.chat_requests()
    assert first.authorization == f"Bearer {KEY}"
    assert first.body["stream"] is True
    tool_names = [t["function"]["name"] for t in first.body["tools"]]
    assert tool_names == [
        "list_files",
        "read_file",
        "write_file",
        "edit_file",
        "search_text",
        "run_command",
    ]
    roles = [m["role"] for m in second.body["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool"]
    call_ids = [c["id"] for c in second.body["messages"][2]["tool_calls"]]
    assert [m["tool_call_id"] for m in second.body["messages"][3:]] == call_ids


def test_step_limit_stops_a_model_that_never_answers(
    fake_openai: FakeOpenAI, toolbox: Toolbox
) -> None:
    fake_openai.script(*[Reply(tool_calls=[("list_files", {})]) for _ in range(5)])
    sink = RecordingSink()
    assert run(fake_openai, toolbox, sink) == TurnOutcome.STEP_LIMIT
    assert len(fake_openai.chat_requests()) == 5
    assert sink.of("message") == ["Stopped after 5 steps (the step limit)."]


def test_cancel_mid_stream_closes_the_stream(fake_openai: FakeOpenAI, toolbox: Toolbox) -> None:
    fake_openai.script(Reply(text=[f"word{i} " for i in range(100)], chunk_delay=0.05))
    sink = RecordingSink(cancel_after_deltas=3)
    started = time.monotonic()
    assert run(fake_openai, toolbox, sink) == TurnOutcome.CANCELLED
    elapsed = time.monotonic() - started
    # 100 pieces at 50 ms would take 5 s; closing the stream returns after the third or so.
    assert elapsed < 2.5, elapsed
    assert sink.of("message") == ["word0 word1 word2 "]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text=["late ", "words"], chunk_delay=8),  # stalls after the headers
        Reply(error="timeout", hang_seconds=8),  # stalls before any answer
    ],
)
def test_stop_works_while_the_provider_stalls(
    fake_openai: FakeOpenAI, toolbox: Toolbox, reply: Reply
) -> None:
    fake_openai.script(reply)
    sink = RecordingSink()
    threading.Timer(0.5, lambda: setattr(sink, "cancel", True)).start()
    started = time.monotonic()
    outcome = run_turn(
        backend=backend(fake_openai, sink=sink),
        toolbox=toolbox,
        history=[ChatItem("user", "hi")],
        sink=sink,
        max_steps=3,
    )
    assert outcome == TurnOutcome.CANCELLED
    elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed  # the stall is 8 s, the client timeout 10 s
    assert sink.of("message") == []


@pytest.mark.parametrize(
    ("error", "phrase"),
    [
        ("auth", "rejected the API key"),
        ("rate_limit", "rate-limiting"),
        ("context_length", "too long for this model"),
        ("timeout", "did not answer in time"),
    ],
)
def test_provider_errors_become_plain_messages(
    fake_openai: FakeOpenAI, toolbox: Toolbox, error: str, phrase: str
) -> None:
    fake_openai.script(Reply(error=error, hang_seconds=3))
    model = backend(fake_openai, timeout=0.5)
    with pytest.raises(ModelError) as raised:
        list(model.stream([ChatItem("user", "hi")], toolbox.specs()))
    assert phrase in str(raised.value)
    assert KEY not in str(raised.value) and "1234" not in str(raised.value)


@pytest.mark.parametrize(
    ("broken", "phrase"),
    [("error_chunk", "The model call failed."), ("cut", "reply broke off")],
)
def test_a_stream_that_breaks_mid_reply_is_a_plain_error(
    fake_openai: FakeOpenAI, toolbox: Toolbox, broken: str, phrase: str
) -> None:
    fake_openai.script(Reply(text=["Hel", "lo"], broken=broken))
    model = backend(fake_openai)
    seen: list[ModelEvent] = []
    with pytest.raises(ModelError) as raised:
        for event in model.stream([ChatItem("user", "hi")], toolbox.specs()):
            seen.append(event)
    assert [e.text for e in seen if isinstance(e, TextDelta)] == ["Hel", "lo"]
    assert phrase in str(raised.value)
    assert KEY not in str(raised.value)


def test_a_server_without_stream_options_still_works(
    fake_openai: FakeOpenAI, toolbox: Toolbox
) -> None:
    fake_openai.refuse_stream_options = True
    try:
        fake_openai.script(Reply(text=["plain ", "answer"]))
        sink = RecordingSink()
        assert run(fake_openai, toolbox, sink) == TurnOutcome.DONE
    finally:
        fake_openai.refuse_stream_options = False
    assert sink.of("message") == ["plain answer"]
    assert sink.of("model_call") == [None]  # no usage without stream_options
    first, second = fake_openai.chat_requests()
    assert "stream_options" in first.body and "stream_options" not in second.body


def test_a_bad_key_fails_validation(fake_openai: FakeOpenAI) -> None:
    assert backend(fake_openai).list_models() == ["fake-large", "fake-small"]
    with pytest.raises(ModelError, match="rejected the API key"):
        backend(fake_openai, key="bad-key-0000").list_models()


def test_trim_keeps_system_and_current_turn_and_drops_oldest_whole_turns() -> None:
    call = ToolCall("c1", "read_file", {"path": "a"})
    conversation = [
        ChatItem("user", "old " * 400),
        ChatItem("assistant", "", tool_calls=(call,)),
        ChatItem("tool", "x" * 400, tool_call_id="c1"),
        ChatItem("user", "middle question"),
        ChatItem("assistant", "middle answer"),
        ChatItem("user", "now"),
    ]
    everything = trim_to_window("sys", conversation, 10_000)
    assert len(everything) == 7
    trimmed = trim_to_window("sys", conversation, 60)
    assert [m["content"] for m in trimmed] == ["sys", "middle question", "middle answer", "now"]
    only_current = trim_to_window("sys", conversation, 5)
    assert [m["content"] for m in only_current] == ["sys", "now"]


def test_trim_cuts_long_tool_output_of_the_current_turn() -> None:
    call = ToolCall("c1", "run_command", {"command": "cat big"})
    conversation = [
        ChatItem("user", "show big"),
        ChatItem("assistant", "", tool_calls=(call,)),
        ChatItem("tool", "y" * 40_000, tool_call_id="c1"),
    ]
    messages = trim_to_window("sys", conversation, 1000)
    assert messages[-1]["content"].endswith(CUT_MARKER)
    assert len(messages[-1]["content"]) < 1000

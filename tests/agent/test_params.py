"""A turn's model parameters: what a user may enter, and what reaches the provider.

The request side runs the real openai SDK against the local fake provider.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compymac_rx.agent import params
from compymac_rx.agent.loop import TurnOutcome, run_turn
from compymac_rx.agent.openai_backend import OpenAIBackend
from compymac_rx.agent.params import DEFAULT_SYSTEM_PROMPT, ModelParams, ParamsRefused
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import ChatItem, ReasoningDelta, TextDelta, ToolCall, ToolCallDelta
from tests.agent.test_loop import LIMITS, RecordingSink
from tests.fake_openai import FakeOpenAI, Reply


@pytest.fixture
def toolbox(tmp_path: Path) -> Toolbox:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return Toolbox(workspace, LIMITS, file_read_limit=10_000)


def backend(fake: FakeOpenAI, model_params: ModelParams | None = None) -> OpenAIBackend:
    return OpenAIBackend(
        base_url=fake.url,
        api_key="sk-test-params",
        model="fake-small",
        context_window=8192,
        max_output_tokens=1024,
        timeout_seconds=10,
        max_retries=0,
        params=model_params,
    )


@pytest.mark.parametrize(
    ("raw", "value"),
    [("", None), ("  ", None), ("0", 0.0), ("2", 2.0), ("0.7", 0.7), ("1,25", 1.25)],
)
def test_temperature_is_empty_or_from_0_to_2(raw: str, value: float | None) -> None:
    assert params.parse_temperature(raw) == value


@pytest.mark.parametrize("raw", ["-0.1", "2.01", "hot", "nan", "inf", "1e9"])
def test_a_bad_temperature_is_refused_plainly(raw: str) -> None:
    with pytest.raises(ParamsRefused, match="Temperature is a number from 0 to 2"):
        params.parse_temperature(raw)


@pytest.mark.parametrize(
    ("raw", "value"), [("", None), ("1", 1), ("16384", 16384), ("2_000", 2000)]
)
def test_max_tokens_is_empty_or_a_bounded_positive_number(raw: str, value: int | None) -> None:
    assert params.parse_max_tokens(raw, 16384) == value


@pytest.mark.parametrize("raw", ["0", "-5", "16385", "1.5", "many", "²", "9" * 5000])
def test_bad_max_tokens_are_refused_plainly(raw: str) -> None:
    with pytest.raises(ParamsRefused, match="whole number from 1 to 16384"):
        params.parse_max_tokens(raw, 16384)


def test_system_prompts_are_trimmed_and_bounded() -> None:
    assert params.clean_prompt("  Be terse.\n") == "Be terse."
    assert params.clean_prompt(" \n ") == ""
    with pytest.raises(ParamsRefused, match="too long: at most 8000"):
        params.clean_prompt("x" * 8001)


def test_the_session_prompt_wins_then_the_users_then_ours() -> None:
    both = params.resolve(
        session_prompt="S", default_prompt="D", temperature=0.2, max_output_tokens=50
    )
    assert both == ModelParams("S", "session", 0.2, 50)
    default = params.resolve(
        session_prompt=" ", default_prompt="D", temperature=None, max_output_tokens=None
    )
    assert (default.system_prompt, default.prompt_source) == ("D", "default")
    ours = params.resolve(
        session_prompt="", default_prompt="", temperature=None, max_output_tokens=None
    )
    assert (ours.system_prompt, ours.prompt_source) == (DEFAULT_SYSTEM_PROMPT, "builtin")


def test_the_request_carries_prompt_temperature_and_max_tokens(
    fake_openai: FakeOpenAI, toolbox: Toolbox
) -> None:
    fake_openai.script(Reply(text=["ok"]))
    chosen = ModelParams("You answer in French.", "session", 0.3, 321)
    list(backend(fake_openai, chosen).stream([ChatItem("user", "hi")], toolbox.specs()))
    body = fake_openai.last_chat()
    assert body["messages"][0] == {"role": "system", "content": "You answer in French."}
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 321


def test_without_params_the_request_has_our_prompt_and_no_temperature(
    fake_openai: FakeOpenAI, toolbox: Toolbox
) -> None:
    fake_openai.script(Reply(text=["ok"]))
    list(backend(fake_openai).stream([ChatItem("user", "hi")], toolbox.specs()))
    body = fake_openai.last_chat()
    assert body["messages"][0] == {"role": "system", "content": DEFAULT_SYSTEM_PROMPT}
    assert "temperature" not in body
    assert body["max_tokens"] == 1024


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_streams_as_its_own_pieces(
    fake_openai: FakeOpenAI, toolbox: Toolbox, field: str
) -> None:
    fake_openai.script(
        Reply(reasoning=["Let me ", "think."], reasoning_field=field, text=["Answer."])
    )
    events = list(backend(fake_openai).stream([ChatItem("user", "hi")], toolbox.specs()))
    assert [e for e in events if isinstance(e, ReasoningDelta)] == [
        ReasoningDelta("Let me "),
        ReasoningDelta("think."),
    ]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Answer."]


def test_tool_arguments_stream_before_the_call(fake_openai: FakeOpenAI, toolbox: Toolbox) -> None:
    args = {"path": "notes.md", "content": "# Notes\n" * 4}
    fake_openai.script(Reply(tool_calls=[("write_file", args)], tool_arg_pieces=4))
    events = list(backend(fake_openai).stream([ChatItem("user", "hi")], toolbox.specs()))
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    [call] = [e for e in events if isinstance(e, ToolCall)]
    assert len(pieces) == 4
    assert events.index(pieces[-1]) < events.index(call)
    assert {p.call_id for p in pieces} == {call.id}
    assert {p.name for p in pieces} == {"write_file"}
    assert (
        "".join(p.arguments for p in pieces)
        == '{"path": "notes.md", "content": "' + ("# Notes\\n" * 4) + '"}'
    )
    assert call.arguments == args


def test_the_loop_reports_reasoning_and_keeps_it_with_the_reply(
    fake_openai: FakeOpenAI, toolbox: Toolbox
) -> None:
    fake_openai.script(
        Reply(reasoning=["Which file? "], tool_calls=[("list_files", {})]),
        Reply(reasoning=["Empty. ", "Say so."], text=["Nothing ", "here."]),
    )
    sink = RecordingSink()
    outcome = run_turn(
        backend=backend(fake_openai),
        toolbox=toolbox,
        history=[ChatItem("user", "what is there?")],
        sink=sink,
        max_steps=4,
    )
    assert outcome == TurnOutcome.DONE
    assert sink.of("reasoning") == ["Which file? ", "Empty. ", "Say so."]
    # The tool step's reasoning is kept with an empty reply; the answer's with its text.
    assert sink.of("message") == ["", "Nothing here."]
    assert sink.of("message_reasoning") == ["Which file? ", "Empty. Say so."]
    assert [d.name for d in sink.of("tool_args")] == ["list_files"] * 2
    # Reasoning is never sent back to the model.
    second = fake_openai.last_chat()["messages"]
    assert all("Which file" not in str(m.get("content")) for m in second)

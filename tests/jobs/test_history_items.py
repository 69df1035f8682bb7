"""history_to_items: stored messages as the model sees them."""

from __future__ import annotations

from compymac_rx.agent.types import ChatItem, ToolCall
from compymac_rx.chats.models import HistoryRow
from compymac_rx.chats.turns import history_to_items


def test_a_tool_record_becomes_the_call_and_its_result() -> None:
    rows = [
        HistoryRow(1, "user", "list the files", {}),
        HistoryRow(2, "assistant", "Let me look.", {}),
        HistoryRow(
            3, "tool", "a.txt\nb.txt", {"call_id": "c7", "tool": "list_files", "args": {"p": "."}}
        ),
        HistoryRow(4, "assistant", "Two files.", {}),
    ]
    call = ToolCall(id="c7", name="list_files", arguments={"p": "."})
    assert history_to_items(rows) == [
        ChatItem("user", "list the files"),
        ChatItem("assistant", "Let me look."),
        ChatItem("assistant", "", tool_calls=(call,)),
        ChatItem("tool", "a.txt\nb.txt", tool_call_id="c7"),
        ChatItem("assistant", "Two files."),
    ]


def test_errors_traces_and_other_roles_never_reach_the_model() -> None:
    rows = [
        HistoryRow(1, "user", "hi", {}),
        HistoryRow(2, "error", "The agent stopped with an error.", {}),
        HistoryRow(3, "trace", "", {"steps": []}),
        HistoryRow(4, "system", "injected?", {}),
    ]
    assert history_to_items(rows) == [ChatItem("user", "hi")]


def test_a_tool_record_without_its_call_id_still_pairs_call_and_result() -> None:
    [call, result] = history_to_items([HistoryRow(9, "tool", "out", {"tool": "run_command"})])
    assert call.tool_calls[0].id == result.tool_call_id == "call_9"
    assert call.tool_calls[0].name == "run_command" and call.tool_calls[0].arguments == {}


def test_reasoning_stays_with_the_reader_and_a_reasoning_only_reply_is_left_out() -> None:
    rows = [
        HistoryRow(1, "user", "what is there?", {}),
        HistoryRow(2, "assistant", "", {"reasoning": "List first."}),
        HistoryRow(3, "tool", "a.txt", {"call_id": "c1", "tool": "list_files", "args": {}}),
        HistoryRow(4, "assistant", "One file.", {"reasoning": "Say so."}),
    ]
    call = ToolCall(id="c1", name="list_files", arguments={})
    assert history_to_items(rows) == [
        ChatItem("user", "what is there?"),
        ChatItem("assistant", "", tool_calls=(call,)),
        ChatItem("tool", "a.txt", tool_call_id="c1"),
        ChatItem("assistant", "One file."),
    ]

from __future__ import annotations

from compymac_rx.agent.builtin import GUIDE_TEXT, HELP_TEXT, BuiltinBackend
from compymac_rx.agent.types import ChatItem, ModelEvent, TextDelta, ToolCall


def events(*conversation: ChatItem) -> list[ModelEvent]:
    return list(BuiltinBackend().stream(conversation, []))


def reply_to(message: str) -> list[ModelEvent]:
    return events(ChatItem(role="user", content=message))


def text_of(items: list[ModelEvent]) -> str:
    assert all(isinstance(item, TextDelta) for item in items)
    return "".join(item.text for item in items if isinstance(item, TextDelta))


def after_tool(call: ToolCall, output: str) -> str:
    return text_of(
        events(
            ChatItem(role="user", content="whatever"),
            ChatItem(role="assistant", content="", tool_calls=(call,)),
            ChatItem(role="tool", content=output, tool_call_id=call.id),
        )
    )


def test_ls_becomes_list_files() -> None:
    assert reply_to("ls") == [ToolCall("call_1", "list_files", {})]
    assert reply_to("  LS notes/ ") == [ToolCall("call_1", "list_files", {"path": "notes/"})]


def test_cat_becomes_read_file() -> None:
    assert reply_to("cat notes/todo.md") == [
        ToolCall("call_1", "read_file", {"path": "notes/todo.md"})
    ]
    assert reply_to("cat `my notes.md`") == [
        ToolCall("call_1", "read_file", {"path": "my notes.md"})
    ]
    assert "Which file?" in text_of(reply_to("cat"))


def test_write_takes_the_following_lines() -> None:
    assert reply_to("write notes/todo.md\n- milk\n- bread") == [
        ToolCall("call_1", "write_file", {"path": "notes/todo.md", "content": "- milk\n- bread"})
    ]


def test_write_accepts_a_fenced_block() -> None:
    message = "write app.py\n```python\nprint('hi')\n\nprint('bye')\n```"
    assert reply_to(message) == [
        ToolCall(
            "call_1", "write_file", {"path": "app.py", "content": "print('hi')\n\nprint('bye')"}
        )
    ]


def test_write_without_content_explains_itself() -> None:
    assert "content on the lines below" in text_of(reply_to("write notes/todo.md"))
    assert "content on the lines below" in text_of(reply_to("write"))


def test_run_becomes_run_command() -> None:
    assert reply_to("run ls -la | wc -l") == [
        ToolCall("call_1", "run_command", {"command": "ls -la | wc -l"})
    ]
    assert reply_to('run echo "a" b "c"') == [
        ToolCall("call_1", "run_command", {"command": 'echo "a" b "c"'})
    ]
    assert reply_to("run\n```sh\necho one\necho two\n```") == [
        ToolCall("call_1", "run_command", {"command": "echo one\necho two"})
    ]
    assert "Which command?" in text_of(reply_to("run"))


def test_call_ids_count_earlier_calls() -> None:
    earlier = ToolCall("call_1", "list_files", {})
    result = events(
        ChatItem(role="user", content="ls"),
        ChatItem(role="assistant", content="", tool_calls=(earlier,)),
        ChatItem(role="tool", content="(empty)", tool_call_id="call_1"),
        ChatItem(role="assistant", content="Here is your workspace"),
        ChatItem(role="user", content="cat a.txt"),
    )
    assert result == [ToolCall("call_2", "read_file", {"path": "a.txt"})]


def test_help_lists_the_commands() -> None:
    text = text_of(reply_to("help"))
    assert text == HELP_TEXT
    for command in ["`ls", "`cat", "`write", "`run", "`help`"]:
        assert command in text


def test_free_text_gets_the_guide() -> None:
    text = text_of(reply_to("Can you refactor my code?"))
    assert text == GUIDE_TEXT
    assert "add your api key on the settings page" in text.lower()
    assert "operator" not in text.lower()
    assert text_of(events()) == GUIDE_TEXT


def test_help_says_where_keys_are_added() -> None:
    # Keys are the user's own, added on the Settings page: no operator step first.
    text = text_of(reply_to("help"))
    assert "add your API key on the Settings page" in text
    assert "operator" not in text


def test_text_streams_in_word_chunks() -> None:
    deltas = reply_to("help")
    assert len(deltas) > 10
    for delta in deltas[:-1]:
        assert isinstance(delta, TextDelta)
        assert delta.text[-1].isspace()
        assert 1 <= len(delta.text.split()) <= 3


def test_summaries_after_tools() -> None:
    ls_root = ToolCall("call_1", "list_files", {})
    assert (
        after_tool(ls_root, "a.txt  (1 byte)")
        == "Here is your workspace:\n\n```\na.txt  (1 byte)\n```"
    )
    ls_notes = ToolCall("call_1", "list_files", {"path": "notes"})
    assert after_tool(ls_notes, "todo.md  (7 bytes)").startswith("Here is `notes/`:\n\n```\n")
    cat = ToolCall("call_1", "read_file", {"path": "a.md"})
    assert after_tool(cat, "use ```code```") == "Here is `a.md`:\n\n````\nuse ```code```\n````"
    write = ToolCall("call_1", "write_file", {"path": "notes/todo.md", "content": "é\n"})
    assert after_tool(write, "Wrote 3 bytes to notes/todo.md") == "Wrote `notes/todo.md` (3 bytes)."
    run = ToolCall("call_1", "run_command", {"command": "echo hi"})
    assert (
        after_tool(run, "hi\n\n[exit code 0]") == "Ran `echo hi`:\n\n```\nhi\n\n[exit code 0]\n```"
    )


def test_failures_are_stated_plainly() -> None:
    cat = ToolCall("call_1", "read_file", {"path": "nope.md"})
    assert after_tool(cat, "Error: no such file: nope.md") == (
        "Could not read `nope.md`: no such file: nope.md"
    )
    run = ToolCall("call_1", "run_command", {"command": "ls"})
    assert after_tool(run, "Error: Commands are disabled: x") == (
        "Could not run the command: Commands are disabled: x"
    )

"""An offline, deterministic agent: a few typed commands become tool calls and summaries.

It needs no model or key, so the app is useful (and testable) out of the box.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from compymac_rx.agent.tools import ERROR_PREFIX, TOOLS_BY_NAME
from compymac_rx.agent.types import ChatItem, ModelEvent, TextDelta, ToolCall, ToolSpec

_WORDS_PER_DELTA = 3
_COMMANDS = """\
- `ls [folder]`: list a folder of your workspace
- `cat <file>`: show a file
- `write <file>`: save the lines after it (or a ``` block) to the file
- `run <command>`: run a shell command in your sandboxed workspace
- `help`: this guide"""

# Keys are added by each user on the Settings page (no operator step is needed first); the
# session header's model menu then offers that provider's models.
MODEL_HINT = """\
To chat with a real model, add your API key on the Settings page, then pick the model in \
the session header."""

HELP_TEXT = f"""\
**Commands**

{_COMMANDS}

For example:

```
write notes/todo.md
- try the built-in assistant
```

then `cat notes/todo.md`, `ls notes` or `run wc -l notes/todo.md`.

{MODEL_HINT}"""

GUIDE_TEXT = f"""\
I'm the built-in assistant: I work offline and understand a few commands, not free text.

{_COMMANDS}

{MODEL_HINT}"""


class BuiltinBackend:
    """A ModelBackend that parses the last user message instead of calling a model."""

    def stream(
        self, conversation: Sequence[ChatItem], tools: Sequence[ToolSpec]
    ) -> Iterator[ModelEvent]:
        last = conversation[-1] if conversation else None
        if last is not None and last.role == "tool":
            yield from _chunks(_summary(conversation))
            return
        if last is None or last.role != "user":
            yield from _chunks(GUIDE_TEXT)
            return
        reply = parse_command(last.content, call_id=f"call_{_calls_so_far(conversation) + 1}")
        if isinstance(reply, ToolCall):
            yield reply
        elif last.attachments:
            yield from _chunks(_attached_note(last) + "\n\n" + reply)
        else:
            yield from _chunks(reply)


def _attached_note(message: ChatItem) -> str:
    """The builtin agent reads no attachments itself: it says what arrived and how to look."""
    names = ", ".join(f"`{a.path}`" for a in message.attachments)
    return (
        f"Attached: {names}. I don't read attachments myself; "
        f"`cat {message.attachments[0].path}` shows one."
    )


def parse_command(message: str, *, call_id: str) -> ToolCall | str:
    """The tool call a message asks for, or the text to answer it with."""
    first, _, rest = message.strip().partition("\n")
    verb, _, argument = first.strip().partition(" ")
    verb = verb.lower()
    argument = _unquote(argument.strip())
    if verb in ("help", "?", "/help"):
        return HELP_TEXT
    if verb == "ls":
        return ToolCall(call_id, "list_files", {"path": argument} if argument else {})
    if verb == "cat":
        if not argument:
            return "Which file? For example: `cat notes/todo.md`."
        return ToolCall(call_id, "read_file", {"path": argument})
    if verb == "write":
        content = _unfence(rest)
        if not argument or not rest.strip():
            return (
                "Put the file name after `write` and its content on the lines below, e.g.:\n\n"
                + ("```\nwrite notes/todo.md\n- first item\n```")
            )
        return ToolCall(call_id, "write_file", {"path": argument, "content": content})
    if verb == "run":
        command = _unfence("\n".join(part for part in (argument, rest) if part.strip()))
        if not command.strip():
            return "Which command? For example: `run ls -la`."
        return ToolCall(call_id, "run_command", {"command": command.strip()})
    return GUIDE_TEXT


def _summary(conversation: Sequence[ChatItem]) -> str:
    """The final reply once the tools ran: what happened, with the output."""
    results: list[ChatItem] = []
    index = len(conversation) - 1
    while index >= 0 and conversation[index].role == "tool":
        results.insert(0, conversation[index])
        index -= 1
    calls = {call.id: call for call in conversation[index].tool_calls} if index >= 0 else {}
    parts = [_describe(calls.get(item.tool_call_id or ""), item.content) for item in results]
    return "\n\n".join(parts)


def _describe(call: ToolCall | None, output: str) -> str:
    if call is None:
        return _fenced(output)
    tool = TOOLS_BY_NAME.get(call.name)
    if output.startswith(ERROR_PREFIX):
        action = tool.attempt(call.arguments) if tool and tool.attempt else f"use {call.name}"
        return f"Could not {action}: {output.removeprefix(ERROR_PREFIX)}"
    return tool.report(call.arguments, _fenced(output)) if tool and tool.report else _fenced(output)


def _fenced(text: str) -> str:
    # The fence must be longer than any run of backticks inside, or the block would end early.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"


def _unfence(text: str) -> str:
    """The inside of a ``` block if the text is one; otherwise the text, as typed."""
    stripped = text.strip("\n")
    match = re.fullmatch(r"\s*(`{3,})[^\n`]*\n(.*?)\n?\1\s*", stripped, flags=re.DOTALL)
    return match.group(2) if match else stripped


def _unquote(text: str) -> str:
    # Only a single quoted span: `"a" b "c"` must stay as it is.
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`'\"" and text[0] not in text[1:-1]:
        return text[1:-1]
    return text


def _calls_so_far(conversation: Sequence[ChatItem]) -> int:
    return sum(len(item.tool_calls) for item in conversation)


def _chunks(text: str) -> Iterator[TextDelta]:
    """A few words per delta, so a UI can show the reply arriving."""
    tokens = re.findall(r"\s*\S+\s*", text) or [text]
    for start in range(0, len(tokens), _WORDS_PER_DELTA):
        yield TextDelta("".join(tokens[start : start + _WORDS_PER_DELTA]))

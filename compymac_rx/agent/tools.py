"""The tools an agent can use, all confined to one workspace folder.

Every failure comes back as a ToolResult with ok=False and an output starting with "Error: ",
so a model (and the builtin backend, which only sees the text) can tell it apart.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from compymac_rx import beneath
from compymac_rx.agent.sandbox import SandboxLimits, SandboxUnavailable, run_command
from compymac_rx.agent.types import ToolCall, ToolResult, ToolSpec
from compymac_rx.workspaces import check_quota, over_quota_after_command

ERROR_PREFIX = "Error: "
_MAX_LISTED = 1000
_MAX_HITS = 200
_SEARCH_MAX = 2_000_000
_MAX_SEARCHED = 20_000


class _ToolError(Exception):
    """A failure to report to the model, not to raise."""


class Toolbox:
    """Runs tool calls against one workspace, each through a descriptor of its root.

    Paths are resolved by the kernel beneath that descriptor (compymac_rx.beneath), so a
    command swapping folders for symlinks cannot lead a tool outside.
    """

    def __init__(
        self,
        workspace: Path,
        limits: SandboxLimits,
        file_read_limit: int,
        *,
        bwrap: str = "bwrap",
    ) -> None:
        self.workspace = workspace
        self.limits = limits
        self.file_read_limit = file_read_limit
        self._bwrap = bwrap

    def specs(self) -> list[ToolSpec]:
        return list(TOOLS)

    def call(self, call: ToolCall) -> ToolResult:
        tool = TOOLS_BY_NAME.get(call.name)
        if tool is None:
            known = ", ".join(TOOLS_BY_NAME)
            return _failure(f"there is no tool named {call.name!r}; the tools are {known}")
        try:
            with beneath.opened_root(self.workspace) as root:
                return tool.handler(self, root, call.arguments)
        except (_ToolError, ValueError, SandboxUnavailable) as error:
            return _failure(str(error))
        except OSError as error:
            return _failure(_os_message(error))

    def _list_files(self, root: int, arguments: Mapping[str, Any]) -> ToolResult:
        shown = _shown(_string(arguments, "path", default="."))
        try:
            folder = beneath.open_beneath(root, shown, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            raise _ToolError(f"no such folder: {shown}") from None
        except NotADirectoryError:
            raise _ToolError(f"{shown} is a file, not a folder; use read_file") from None
        try:
            entries = beneath.list_dir(folder)
            lines = [_listed(folder, entry) for entry in entries[:_MAX_LISTED]]
        finally:
            os.close(folder)
        if len(entries) > _MAX_LISTED:
            lines.append(f"... and {len(entries) - _MAX_LISTED} more")
        return ToolResult("\n".join(lines) if lines else "(empty)")

    def _read_file(self, root: int, arguments: Mapping[str, Any]) -> ToolResult:
        shown = _shown(_string(arguments, "path"))
        limit = self.file_read_limit
        data, info = self._read(root, shown, limit)
        cut = len(data) > limit
        text = _decode_text(data[:limit], cut=cut)
        if text is None:
            raise _ToolError(
                f"{shown} is a binary file ({_size(info.st_size)}); only text files can be read"
            )
        if cut:
            text += f"\n\n[cut off: showing the first {_size(limit)} of {_size(info.st_size)}]"
        return ToolResult(text if data else "(empty file)")

    def _read(self, root: int, shown: str, limit: int) -> tuple[bytes, os.stat_result]:
        try:
            with beneath.opened(root, shown) as fd:
                if stat.S_ISDIR(os.fstat(fd).st_mode):
                    raise _ToolError(f"{shown} is a folder, not a file; use list_files")
                return beneath.read_regular(fd, limit)
        except FileNotFoundError:
            raise _ToolError(f"no such file: {shown}") from None
        except beneath.NotRegularFile:
            raise _ToolError(f"{shown} is not a regular file") from None

    def _write_file(self, root: int, arguments: Mapping[str, Any]) -> ToolResult:
        shown = _shown(_string(arguments, "path"))
        content = _string(arguments, "content", allow_empty=True)
        return self._write(root, shown, content.encode("utf-8"))

    def _write(self, root: int, shown: str, data: bytes) -> ToolResult:
        if shown == ".":
            raise _ToolError("the workspace is a folder; give a file path such as notes.md")
        check_quota(root, self.limits.workspace_quota_mb, adding=len(data), replacing=shown)
        try:
            beneath.write_atomic(root, shown, data, make_parents=True)
        except IsADirectoryError:
            raise _ToolError(
                f"{shown} is a folder; give a file path such as {shown}/notes.md"
            ) from None
        return ToolResult(f"Wrote {_size(len(data))} to {shown}")

    def _edit_file(self, root: int, arguments: Mapping[str, Any]) -> ToolResult:
        shown = _shown(_string(arguments, "path"))
        old = _string(arguments, "old_text")
        new = _string(arguments, "new_text", allow_empty=True)
        data, _ = self._read(root, shown, self.file_read_limit)
        if len(data) > self.file_read_limit:
            raise _ToolError(f"{shown} is too long to edit here; use write_file")
        text = _decode_text(data, cut=False)
        if text is None:
            raise _ToolError(f"{shown} is a binary file; only text files can be edited")
        count = text.count(old)
        if count == 0:
            raise _ToolError(f"old_text was not found in {shown}; read the file first")
        if count > 1:
            raise _ToolError(f"old_text occurs {count} times in {shown}; make it unique")
        written = self._write(root, shown, text.replace(old, new, 1).encode("utf-8"))
        return ToolResult(f"Edited {shown}: replaced 1 occurrence. " + written.output)

    def _search_text(self, root: int, arguments: Mapping[str, Any]) -> ToolResult:
        query = _string(arguments, "query").lower()
        start = _shown(_string(arguments, "path", default="."))
        prefix = "" if start == "." else f"{start}/"
        hits: list[str] = []
        try:
            for item in beneath.walk(root, start, max_entries=_MAX_SEARCHED):
                if not item.entry.is_file or item.entry.info.st_size > _SEARCH_MAX:
                    continue  # symlinks, folders, FIFOs and big files are skipped
                try:
                    data, _ = beneath.read_in(item.dir_fd, item.entry.name, _SEARCH_MAX)
                except (OSError, ValueError):
                    continue  # changed meanwhile
                for number, line in enumerate(
                    (_decode_text(data, cut=False) or "").splitlines(), 1
                ):
                    if query in line.lower():
                        hits.append(f"{prefix}{item.path}:{number}: {line.strip()[:200]}")
                        if len(hits) >= _MAX_HITS:
                            hits.append(f"[stopped after {_MAX_HITS} matches]")
                            return ToolResult("\n".join(hits))
        except (FileNotFoundError, NotADirectoryError):
            raise _ToolError(f"no such folder: {start}") from None
        return ToolResult("\n".join(hits) if hits else "No matches.")

    def _run_command(self, root: int, arguments: Mapping[str, Any]) -> ToolResult:
        command = _string(arguments, "command")
        result = run_command(self.workspace, command, self.limits, bwrap=self._bwrap)
        notes = []
        if result.timed_out:
            notes.append(
                f"[timed out after {self.limits.timeout_seconds:g} s: the command was stopped]"
            )
        else:
            notes.append(f"[exit code {result.exit_code}]")
        if result.out_of_memory:
            victim = "it" if result.exit_code == 137 else "one of its processes"
            notes.append(
                f"[out of memory: the command used more than {self.limits.memory_mb} MB, "
                f"so the kernel killed {victim}]"
            )
        if result.process_limit_hit:
            notes.append(
                f"[process limit reached: at most {self.limits.max_processes} processes "
                "at once; some could not start]"
            )
        if result.truncated:
            notes.append(f"[output cut off after {_size(self.limits.output_limit)}]")
        over = over_quota_after_command(root, self.limits.workspace_quota_mb)
        if over is not None:
            notes.append(f"[{over}]")
        output = result.output.rstrip("\n") or "(no output)"
        ok = result.exit_code == 0 and not result.timed_out and over is None
        return ToolResult(output + "\n\n" + "\n".join(notes), ok=ok)


def _listed(folder: int, entry: beneath.Entry) -> str:
    if entry.is_symlink:
        try:
            return f"{entry.name} -> {os.readlink(entry.name, dir_fd=folder)}"
        except OSError:
            return f"{entry.name} -> ?"
    if entry.is_dir:
        return f"{entry.name}/"
    return f"{entry.name}  ({_size(entry.info.st_size)})"


def _shown(relative: str) -> str:
    """The path as the model should see it: normalised, relative, '.' for the root."""
    return "/".join(beneath.parts(relative)) or "."


def _os_message(error: OSError) -> str:
    # filename is always workspace-relative here: the host path is none of the model's business.
    message = error.strerror or type(error).__name__
    if isinstance(error.filename, str) and not error.filename.startswith("/"):
        return f"{message}: {error.filename}"
    return message


def _failure(message: str) -> ToolResult:
    return ToolResult(ERROR_PREFIX + message, ok=False)


def _string(
    arguments: Mapping[str, Any],
    name: str,
    *,
    default: str | None = None,
    allow_empty: bool = False,
) -> str:
    value = arguments.get(name)
    if value is None:
        value = default
    if value is None:
        raise _ToolError(f"missing argument {name!r}")
    if not isinstance(value, str):
        raise _ToolError(f"argument {name!r} must be a string")
    if not value.strip() and not allow_empty and default is None:
        raise _ToolError(f"argument {name!r} is empty")
    return value


def _size(count: int) -> str:
    return "1 byte" if count == 1 else f"{count} bytes"


def _decode_text(data: bytes, *, cut: bool) -> str | None:
    """UTF-8 text, or None for binary; a character split by the cut is not binary."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if cut and error.start >= len(data) - 3 and error.reason == "unexpected end of data":
            return data[: error.start].decode("utf-8", errors="replace")
        return None


# --- the tools, each declared once: the model's spec, the handler, the builtin's wording ---


@dataclasses.dataclass(frozen=True)
class Tool:
    """One tool. `attempt` and `report` are for the builtin backend, which sees only the
    output text: "Could not <attempt>: <error>", and the reply once the tool ran (given the
    output already fenced). Without them: "Could not use <name>" and the bare output."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: Callable[[Toolbox, int, Mapping[str, Any]], ToolResult]
    attempt: Callable[[Mapping[str, Any]], str] | None = None
    report: Callable[[Mapping[str, Any], str], str] | None = None


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """A JSON schema for the arguments: these properties, no others."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _string_schema(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


def _path_of(arguments: Mapping[str, Any]) -> str:
    return str(arguments.get("path") or ".")


def _listed_title(arguments: Mapping[str, Any], output: str) -> str:
    path = _path_of(arguments)
    title = "your workspace" if path in (".", "") else f"`{path.rstrip('/')}/`"
    return f"Here is {title}:\n\n{output}"


def _written(arguments: Mapping[str, Any], _output: str) -> str:
    size = len(str(arguments.get("content", "")).encode("utf-8"))
    return f"Wrote `{_path_of(arguments)}` ({size} byte{'' if size == 1 else 's'})."


def _ran(arguments: Mapping[str, Any], output: str) -> str:
    command = str(arguments.get("command", ""))
    title = f"Ran `{command}`" if "\n" not in command and "`" not in command else "Ran it"
    return f"{title}:\n\n{output}"


_PATH = _string_schema("Path relative to the workspace, e.g. notes/todo.md")
TOOLS = (
    Tool(
        "list_files",
        "List one folder of the workspace: folders end with '/', files show sizes.",
        _object({"path": _string_schema("Folder relative to the workspace; default '.'")}),
        Toolbox._list_files,
        attempt=lambda arguments: f"list `{_path_of(arguments)}`",
        report=_listed_title,
    ),
    Tool(
        "read_file",
        "Read a text file from the workspace (long files are cut off).",
        _object({"path": _PATH}, "path"),
        Toolbox._read_file,
        attempt=lambda arguments: f"read `{_path_of(arguments)}`",
        report=lambda arguments, output: f"Here is `{_path_of(arguments)}`:\n\n{output}",
    ),
    Tool(
        "write_file",
        "Create or overwrite a text file in the workspace; folders are created.",
        _object(
            {"path": _PATH, "content": _string_schema("The whole new file content")},
            "path",
            "content",
        ),
        Toolbox._write_file,
        attempt=lambda arguments: f"write `{_path_of(arguments)}`",
        report=_written,
    ),
    Tool(
        "edit_file",
        "Replace one exact piece of text in a workspace file. old_text must occur exactly "
        "once (include enough surrounding lines to make it unique).",
        _object(
            {
                "path": _PATH,
                "old_text": _string_schema("The exact text to replace"),
                "new_text": _string_schema("The replacement text"),
            },
            "path",
            "old_text",
            "new_text",
        ),
        Toolbox._edit_file,
    ),
    Tool(
        "search_text",
        "Search the workspace's text files for a plain string (case-insensitive); "
        "answers with file:line: text for each match.",
        _object(
            {
                "query": _string_schema("The text to look for"),
                "path": _string_schema("Folder to search in; default '.'"),
            },
            "query",
        ),
        Toolbox._search_text,
    ),
    Tool(
        "run_command",
        "Run a shell command (sh -c) in the workspace, which is the current folder "
        "/workspace. No network; time, memory, processes and output are limited.",
        _object({"command": _string_schema("The shell command")}, "command"),
        Toolbox._run_command,
        attempt=lambda _arguments: "run the command",
        report=_ran,
    ),
)
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}

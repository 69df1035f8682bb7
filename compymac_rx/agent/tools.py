"""The tools an agent can use, all confined to one workspace folder.

Every failure comes back as a ToolResult with ok=False and an output starting with "Error: ",
so a model (and the builtin backend, which only sees the text) can tell it apart.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from compymac_rx.agent.sandbox import SandboxLimits, SandboxUnavailable, run_command
from compymac_rx.agent.types import ToolCall, ToolResult, ToolSpec
from compymac_rx.workspaces import resolve_in_workspace

ERROR_PREFIX = "Error: "
_MAX_LISTED = 1000
_MAX_HITS = 200
_SEARCH_MAX = 2_000_000

_PATH = {"type": "string", "description": "Path relative to the workspace, e.g. notes/todo.md"}
_SPECS = (
    ToolSpec(
        name="list_files",
        description="List one folder of the workspace: folders end with '/', files show sizes.",
        parameters={
            "type": "object",
            "properties": {
                "path": {**_PATH, "description": "Folder relative to the workspace; default '.'"}
            },
            "required": [],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        name="read_file",
        description="Read a text file from the workspace (long files are cut off).",
        parameters={
            "type": "object",
            "properties": {"path": _PATH},
            "required": ["path"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        name="write_file",
        description="Create or overwrite a text file in the workspace; folders are created.",
        parameters={
            "type": "object",
            "properties": {
                "path": _PATH,
                "content": {"type": "string", "description": "The whole new file content"},
            },
            "required": ["path", "content"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        name="edit_file",
        description=(
            "Replace one exact piece of text in a workspace file. old_text must occur exactly "
            "once (include enough surrounding lines to make it unique)."
        ),
        parameters={
            "type": "object",
            "properties": {
                "path": _PATH,
                "old_text": {"type": "string", "description": "The exact text to replace"},
                "new_text": {"type": "string", "description": "The replacement text"},
            },
            "required": ["path", "old_text", "new_text"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        name="search_text",
        description=(
            "Search the workspace's text files for a plain string (case-insensitive); "
            "answers with file:line: text for each match."
        ),
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "The text to look for"},
                "path": {**_PATH, "description": "Folder to search in; default '.'"},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        name="run_command",
        description=(
            "Run a shell command (sh -c) in the workspace, which is the current folder "
            "/workspace. No network; time, memory, processes and output are limited."
        ),
        parameters={
            "type": "object",
            "properties": {"command": {"type": "string", "description": "The shell command"}},
            "required": ["command"],
            "additionalProperties": False,
        },
    ),
)


class _ToolError(Exception):
    """A failure to report to the model, not to raise."""


class Toolbox:
    """Runs tool calls against one workspace."""

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
        self._handlers: dict[str, Callable[[Mapping[str, Any]], ToolResult]] = {
            "list_files": self._list_files,
            "read_file": self._read_file,
            "write_file": self._write_file,
            "edit_file": self._edit_file,
            "search_text": self._search_text,
            "run_command": self._run_command,
        }

    def specs(self) -> list[ToolSpec]:
        return list(_SPECS)

    def call(self, call: ToolCall) -> ToolResult:
        handler = self._handlers.get(call.name)
        if handler is None:
            known = ", ".join(self._handlers)
            return _failure(f"there is no tool named {call.name!r}; the tools are {known}")
        try:
            return handler(call.arguments)
        except (_ToolError, ValueError, SandboxUnavailable) as error:
            return _failure(str(error))
        except OSError as error:
            return _failure(self._os_message(error))

    def _os_message(self, error: OSError) -> str:
        # Name the file relative to the workspace: the host path is none of the model's business.
        message = error.strerror or type(error).__name__
        if isinstance(error.filename, str):
            try:
                return f"{message}: {self._shown(Path(error.filename))}"
            except ValueError:
                pass
        return message

    def _resolve(self, relative: str) -> Path:
        return resolve_in_workspace(self.workspace, relative)

    def _shown(self, path: Path) -> str:
        relative = path.relative_to(self.workspace.resolve()).as_posix()
        return "." if relative == "." else relative

    def _list_files(self, arguments: Mapping[str, Any]) -> ToolResult:
        folder = self._resolve(_string(arguments, "path", default="."))
        if not folder.exists():
            raise _ToolError(f"no such folder: {self._shown(folder)}")
        if not folder.is_dir():
            raise _ToolError(f"{self._shown(folder)} is a file, not a folder; use read_file")
        lines = []
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        for entry in entries[:_MAX_LISTED]:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                lines.append(f"{entry.name} -> {os.readlink(entry.path)}")
            elif stat.S_ISDIR(info.st_mode):
                lines.append(f"{entry.name}/")
            else:
                lines.append(f"{entry.name}  ({_size(info.st_size)})")
        if len(entries) > _MAX_LISTED:
            lines.append(f"... and {len(entries) - _MAX_LISTED} more")
        return ToolResult("\n".join(lines) if lines else "(empty)")

    def _read_file(self, arguments: Mapping[str, Any]) -> ToolResult:
        path = self._resolve(_string(arguments, "path"))
        shown = self._shown(path)
        if path.is_dir():
            raise _ToolError(f"{shown} is a folder, not a file; use list_files")
        if not path.exists():
            raise _ToolError(f"no such file: {shown}")
        limit = self.file_read_limit
        # O_NONBLOCK: a FIFO made by a command must not hang the app; it is refused below.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        with os.fdopen(os.open(path, flags), "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise _ToolError(f"{shown} is not a regular file")
            data = file.read(limit + 1)
        cut = len(data) > limit
        text = _decode_text(data[:limit], cut=cut)
        if text is None:
            raise _ToolError(
                f"{shown} is a binary file ({_size(info.st_size)}); only text files can be read"
            )
        if cut:
            text += f"\n\n[cut off: showing the first {_size(limit)} of {_size(info.st_size)}]"
        return ToolResult(text if data else "(empty file)")

    def _write_file(self, arguments: Mapping[str, Any]) -> ToolResult:
        relative = _string(arguments, "path")
        content = _string(arguments, "content", allow_empty=True)
        path = self._resolve(relative)
        shown = self._shown(path)
        if path == self.workspace.resolve() or path.is_dir():
            raise _ToolError(f"{shown} is a folder; give a file path such as {shown}/notes.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8")
        # O_NOFOLLOW: should a symlink appear after the check above, fail instead of following.
        # O_NONBLOCK: opening a FIFO made by a command fails instead of hanging the app.
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        with os.fdopen(os.open(path, flags, 0o644), "wb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise _ToolError(f"{shown} is not a regular file")
            file.truncate()
            file.write(data)
        return ToolResult(f"Wrote {_size(len(data))} to {shown}")

    def _edit_file(self, arguments: Mapping[str, Any]) -> ToolResult:
        relative = _string(arguments, "path")
        old = _string(arguments, "old_text")
        new = _string(arguments, "new_text", allow_empty=True)
        path = self._resolve(relative)
        if not path.is_file() or path.is_symlink():
            raise _ToolError(f"no such file: {self._shown(path)}")
        if path.stat().st_size > self.file_read_limit:
            raise _ToolError(f"{relative} is too long to edit here; use write_file")
        text = _decode_text(path.read_bytes(), cut=False)
        if text is None:
            raise _ToolError(f"{relative} is a binary file; only text files can be edited")
        count = text.count(old)
        if count == 0:
            raise _ToolError(f"old_text was not found in {relative}; read the file first")
        if count > 1:
            raise _ToolError(f"old_text occurs {count} times in {relative}; make it unique")
        written = self._write_file({"path": relative, "content": text.replace(old, new, 1)})
        return ToolResult(f"Edited {relative}: replaced 1 occurrence. " + written.output)

    def _search_text(self, arguments: Mapping[str, Any]) -> ToolResult:
        query = _string(arguments, "query").lower()
        root = self._resolve(_string(arguments, "path", default="."))
        if not root.is_dir():
            raise _ToolError(f"no such folder: {self._shown(root)}")
        hits: list[str] = []
        # os.walk does not follow symlinks by default; symlinked files are skipped below.
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file() or path.stat().st_size > _SEARCH_MAX:
                    continue
                text = _decode_text(path.read_bytes(), cut=False)
                for number, line in enumerate((text or "").splitlines(), 1):
                    if query in line.lower():
                        hits.append(f"{self._shown(path)}:{number}: {line.strip()[:200]}")
                        if len(hits) >= _MAX_HITS:
                            hits.append(f"[stopped after {_MAX_HITS} matches]")
                            return ToolResult("\n".join(hits))
        return ToolResult("\n".join(hits) if hits else "No matches.")

    def _run_command(self, arguments: Mapping[str, Any]) -> ToolResult:
        command = _string(arguments, "command")
        result = run_command(self.workspace, command, self.limits, bwrap=self._bwrap)
        notes = []
        if result.timed_out:
            notes.append(
                f"[timed out after {self.limits.timeout_seconds:g} s: the command was stopped]"
            )
        else:
            notes.append(f"[exit code {result.exit_code}]")
        if result.truncated:
            notes.append(f"[output cut off after {_size(self.limits.output_limit)}]")
        output = result.output.rstrip("\n") or "(no output)"
        ok = result.exit_code == 0 and not result.timed_out
        return ToolResult(output + "\n\n" + "\n".join(notes), ok=ok)


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

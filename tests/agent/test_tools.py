from __future__ import annotations

import os
from pathlib import Path

import pytest

from compymac_rx import beneath
from compymac_rx.agent.sandbox import SandboxLimits
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import ToolCall, ToolResult

LIMITS = SandboxLimits(
    timeout_seconds=10, cpu_seconds=10, memory_mb=512, max_processes=64, output_limit=2000
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture(params=["openat2", "fallback"])
def toolbox(
    workspace: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Toolbox:
    """Every file tool runs with openat2 and with the component-by-component fallback."""
    if request.param == "fallback":
        monkeypatch.setattr(beneath, "_openat2", lambda: None)
    assert beneath.uses_openat2() == (request.param == "openat2")
    return Toolbox(workspace, LIMITS, file_read_limit=1000)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    return secret


def call(toolbox: Toolbox, name: str, **arguments: object) -> ToolResult:
    return toolbox.call(ToolCall(id="call_1", name=name, arguments=dict(arguments)))


def test_specs_describe_the_six_tools(toolbox: Toolbox) -> None:
    specs = {spec.name: spec for spec in toolbox.specs()}
    assert list(specs) == [
        "list_files",
        "read_file",
        "write_file",
        "edit_file",
        "search_text",
        "run_command",
    ]
    assert specs["write_file"].parameters["required"] == ["path", "content"]
    assert specs["list_files"].parameters["required"] == []
    for spec in specs.values():
        assert spec.parameters["type"] == "object"
        assert spec.description


def test_list_files_one_level_sorted_with_sizes(toolbox: Toolbox, workspace: Path) -> None:
    assert call(toolbox, "list_files") == ToolResult("(empty)")
    (workspace / "notes" / "deep").mkdir(parents=True)
    (workspace / "notes" / "deep" / "hidden.txt").write_text("x")
    (workspace / "b.txt").write_text("hello")
    (workspace / "a.txt").write_text("x")
    (workspace / "link").symlink_to("b.txt")
    result = call(toolbox, "list_files", path=".")
    assert result.ok
    assert result.output.splitlines() == [
        "a.txt  (1 byte)",
        "b.txt  (5 bytes)",
        "link -> b.txt",
        "notes/",
    ]
    assert call(toolbox, "list_files", path="notes").output == "deep/"
    assert call(toolbox, "list_files", path="notes/deep/").output == "hidden.txt  (1 byte)"


def test_list_files_errors(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "f.txt").write_text("x")
    missing = call(toolbox, "list_files", path="nope")
    assert missing == ToolResult("Error: no such folder: nope", ok=False)
    not_folder = call(toolbox, "list_files", path="f.txt")
    assert not not_folder.ok
    assert "is a file" in not_folder.output


def test_read_file(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "notes").mkdir()
    (workspace / "notes" / "todo.md").write_text("- milk\n- bread\n")
    (workspace / "empty.txt").write_text("")
    assert call(toolbox, "read_file", path="notes/todo.md") == ToolResult("- milk\n- bread\n")
    assert call(toolbox, "read_file", path="empty.txt").output == "(empty file)"


def test_read_file_caps_long_files(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "long.txt").write_text("é" * 1000)  # 2000 bytes; the cut splits a character
    result = call(toolbox, "read_file", path="long.txt")
    assert result.ok
    assert result.output.startswith("é" * 500)
    assert result.output.endswith("[cut off: showing the first 1000 bytes of 2000 bytes]")


def test_read_file_refuses_binary_files(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (workspace / "latin1.txt").write_bytes("café".encode("latin-1"))
    for name in ["image.png", "latin1.txt"]:
        result = call(toolbox, "read_file", path=name)
        assert not result.ok
        assert f"{name} is a binary file" in result.output


def test_read_file_errors(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "folder").mkdir()
    os.mkfifo(workspace / "pipe")  # must be refused, not block the app
    assert call(toolbox, "read_file", path="nope.txt").output == "Error: no such file: nope.txt"
    assert "is a folder" in call(toolbox, "read_file", path="folder").output
    assert call(toolbox, "read_file", path="pipe") == ToolResult(
        "Error: pipe is not a regular file", ok=False
    )


def test_write_file_creates_folders_and_overwrites(toolbox: Toolbox, workspace: Path) -> None:
    result = call(toolbox, "write_file", path="notes/today/todo.md", content="- milk\n")
    assert result == ToolResult("Wrote 7 bytes to notes/today/todo.md")
    assert (workspace / "notes" / "today" / "todo.md").read_text() == "- milk\n"
    call(toolbox, "write_file", path="notes/today/todo.md", content="")
    assert (workspace / "notes" / "today" / "todo.md").read_text() == ""


def test_write_file_errors(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "folder").mkdir()
    (workspace / "file.txt").write_text("x")
    assert "is a folder" in call(toolbox, "write_file", path="folder", content="x").output
    assert "is a folder" in call(toolbox, "write_file", path=".", content="x").output
    under_file = call(toolbox, "write_file", path="file.txt/x", content="x")
    assert not under_file.ok
    assert "file.txt" in under_file.output
    assert str(workspace) not in under_file.output  # host paths stay hidden


def test_paths_cannot_escape(toolbox: Toolbox, workspace: Path, outside: Path) -> None:
    attempts = [
        ("read_file", {"path": "../secret.txt"}, "outside the workspace"),
        ("read_file", {"path": str(outside)}, "absolute paths are not allowed"),
        ("list_files", {"path": ".."}, "outside the workspace"),
        ("write_file", {"path": "../evil.txt", "content": "x"}, "outside the workspace"),
        ("write_file", {"path": "/tmp/evil.txt", "content": "x"}, "absolute paths"),
    ]
    for name, arguments, message in attempts:
        result = call(toolbox, name, **arguments)
        assert not result.ok
        assert result.output.startswith("Error: ")
        assert message in result.output
        assert "TOP-SECRET" not in result.output
    assert not (outside.parent / "evil.txt").exists()
    # Positive control: the same text inside the workspace is read.
    (workspace / "inside.txt").write_text(outside.read_text())
    assert "TOP-SECRET" in call(toolbox, "read_file", path="inside.txt").output


def test_symlinks_cannot_lead_out(toolbox: Toolbox, workspace: Path, outside: Path) -> None:
    (workspace / "secret-link").symlink_to(outside)
    (workspace / "dir-link").symlink_to(outside.parent)
    (workspace / "new-link").symlink_to(outside.parent / "created-by-agent.txt")
    read = call(toolbox, "read_file", path="secret-link")
    assert not read.ok
    assert "symbolic link" in read.output
    assert "TOP-SECRET" not in read.output
    assert not call(toolbox, "list_files", path="dir-link").ok
    (workspace / "copy.txt").write_text(outside.read_text())  # positive control: a plain file
    assert "TOP-SECRET" in call(toolbox, "read_file", path="copy.txt").output
    for path in ["secret-link", "dir-link/secret.txt", "new-link", "dir-link/sub/x.txt"]:
        written = call(toolbox, "write_file", path=path, content="overwritten")
        assert not written.ok
        assert "symbolic link" in written.output
    assert outside.read_text() == "TOP-SECRET"
    assert not (outside.parent / "created-by-agent.txt").exists()
    assert not (outside.parent / "sub").exists()


def test_run_command_reports_exit_code(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "a.txt").write_text("one\ntwo\n")
    result = call(toolbox, "run_command", command="wc -l < a.txt")
    assert result == ToolResult("2\n\n[exit code 0]")
    failed = call(toolbox, "run_command", command="echo oops; exit 4")
    assert failed == ToolResult("oops\n\n[exit code 4]", ok=False)
    quiet = call(toolbox, "run_command", command="true")
    assert quiet.output == "(no output)\n\n[exit code 0]"


def test_run_command_reports_timeout_and_truncation(workspace: Path) -> None:
    limits = SandboxLimits(
        timeout_seconds=1, cpu_seconds=10, memory_mb=512, max_processes=64, output_limit=1000
    )
    toolbox = Toolbox(workspace, limits, file_read_limit=1000)
    slow = call(toolbox, "run_command", command="echo start; sleep 30")
    assert not slow.ok
    assert slow.output == "start\n\n[timed out after 1 s: the command was stopped]"
    noisy = call(toolbox, "run_command", command="seq 1 100000")
    assert noisy.ok
    assert noisy.output.endswith("[exit code 0]\n[output cut off after 1000 bytes]")


def test_run_command_without_bwrap(workspace: Path) -> None:
    toolbox = Toolbox(workspace, LIMITS, file_read_limit=1000, bwrap="missing-bwrap")
    result = call(toolbox, "run_command", command="ls")
    assert not result.ok
    assert result.output.startswith("Error: Commands are disabled: bubblewrap (bwrap)")


def test_bad_arguments_and_unknown_tools(toolbox: Toolbox) -> None:
    assert call(toolbox, "read_file").output == "Error: missing argument 'path'"
    assert call(toolbox, "read_file", path=3).output == "Error: argument 'path' must be a string"
    assert call(toolbox, "write_file", path="a.txt").output == "Error: missing argument 'content'"
    assert call(toolbox, "run_command", command="  ").output == "Error: argument 'command' is empty"
    assert call(toolbox, "list_files", path=None).ok
    unknown = call(toolbox, "delete_everything")
    assert not unknown.ok
    assert "no tool named 'delete_everything'" in unknown.output


def test_edit_file_replaces_one_unique_occurrence(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "app.py").write_text("x = 1\ny = 2\n")
    result = call(toolbox, "edit_file", path="app.py", old_text="y = 2", new_text="y = 3")
    assert result.ok, result.output
    assert (workspace / "app.py").read_text() == "x = 1\ny = 3\n"


def test_edit_file_refuses_missing_or_ambiguous_text(toolbox: Toolbox, workspace: Path) -> None:
    (workspace / "a.txt").write_text("same same")
    missing = call(toolbox, "edit_file", path="a.txt", old_text="other", new_text="x")
    twice = call(toolbox, "edit_file", path="a.txt", old_text="same", new_text="x")
    assert not missing.ok and "not found" in missing.output
    assert not twice.ok and "2 times" in twice.output
    assert (workspace / "a.txt").read_text() == "same same"


def test_edit_file_refuses_paths_outside(toolbox: Toolbox, outside: Path) -> None:
    result = call(toolbox, "edit_file", path="../secret.txt", old_text="TOP", new_text="x")
    assert not result.ok
    assert outside.read_text() == "TOP-SECRET"


def test_search_text_finds_lines_and_skips_symlinks_out(
    toolbox: Toolbox, workspace: Path, outside: Path
) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "main.py").write_text("import os\nprint('Hello')\n")
    (workspace / "leak.txt").symlink_to(outside)
    (workspace / "blob.bin").write_bytes(b"\x00hello\x00")
    result = call(toolbox, "search_text", query="hello")
    assert result.ok
    assert result.output == "src/main.py:2: print('Hello')"
    assert "TOP-SECRET" not in call(toolbox, "search_text", query="secret").output
    assert call(toolbox, "search_text", query="nothing-here").output == "No matches."
    assert not call(toolbox, "search_text", query="x", path="..").ok

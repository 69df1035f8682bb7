"""Resource ceilings of agent commands (real bubblewrap, real cgroups) and the disk quota."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compymac_rx.agent import cgroups
from compymac_rx.agent.sandbox import SandboxLimits, SandboxUnavailable, run_command
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import ToolCall, ToolResult


def limits(**changes: object) -> SandboxLimits:
    values: dict[str, object] = {
        "timeout_seconds": 15,
        "cpu_seconds": 15,
        "memory_mb": 128,
        "max_processes": 40,
        "output_limit": 20_000,
        "workspace_quota_mb": 50,
    }
    values.update(changes)
    return SandboxLimits(**values)  # type: ignore[arg-type]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "user" / "session"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def parents() -> tuple[int, Path, Path]:
    found = cgroups._parents()
    # This machine has writable v1 memory and pids controllers (ENVIRONMENT.md "cgroups").
    assert found is not None, "no writable cgroup: these tests need one"
    return found


def command_groups(parents: tuple[int, Path, Path]) -> list[Path]:
    _, memory, pids = parents
    mine = f"{cgroups.group_prefix()}*"  # not those of other app processes on the machine
    return sorted({*memory.glob(mine), *pids.glob(mine)})


class GroupWatcher:
    """Samples the command's cgroups from outside while it runs: ceilings and peak use."""

    def __init__(self, parents: tuple[int, Path, Path]) -> None:
        self.version, self.memory_parent, self.pids_parent = parents
        self.peak_pids = 0
        self.memory_limits: set[int] = set()
        self.pids_limits: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> GroupWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        memory_file = "memory.max" if self.version == 2 else "memory.limit_in_bytes"
        while not self._stop.is_set():
            # Only groups with members: the ceilings are written before the command joins.
            for group in self.pids_parent.glob(f"{cgroups.group_prefix()}*"):
                try:
                    if not (group / "cgroup.procs").read_text().strip():
                        continue
                    self.peak_pids = max(self.peak_pids, int((group / "pids.current").read_text()))
                    self.pids_limits.add((group / "pids.max").read_text().strip())
                except (OSError, ValueError):
                    continue
            for group in self.memory_parent.glob(f"{cgroups.group_prefix()}*"):
                try:
                    if (group / "cgroup.procs").read_text().strip():
                        self.memory_limits.add(int((group / memory_file).read_text()))
                except (OSError, ValueError):
                    continue
            time.sleep(0.02)


def call(toolbox: Toolbox, name: str, **arguments: object) -> ToolResult:
    return toolbox.call(ToolCall(id="c1", name=name, arguments=dict(arguments)))


def test_a_memory_hog_is_killed_with_a_clear_message(
    workspace: Path, parents: tuple[int, Path, Path]
) -> None:
    toolbox = Toolbox(workspace, limits(memory_mb=128), file_read_limit=1000)
    with GroupWatcher(parents) as watcher:
        result = call(toolbox, "run_command", command="python3 -c 'bytearray(400 * 1024 * 1024)'")
    assert not result.ok
    assert "[exit code 137]" in result.output
    assert (
        "[out of memory: the command used more than 128 MB, so the kernel killed it]"
        in result.output
    )
    assert watcher.memory_limits == {128 * 1024 * 1024}
    assert command_groups(parents) == []


def test_memory_is_capped_across_processes(
    workspace: Path, parents: tuple[int, Path, Path]
) -> None:
    # Four processes of ~90 MB each: every one passes a per-process limit of 128 MB, the
    # command as a whole does not.
    hog = "python3 -c 'import time; b = bytearray(60 * 1024 * 1024); time.sleep(3)'"
    command = f"for i in 1 2 3 4; do {hog} & done; wait; echo finished"
    result = run_command(workspace, command, limits(memory_mb=128))
    assert result.out_of_memory
    assert "finished" in result.output  # the shell lived on; the kernel killed a hog
    fallback = run_command(workspace, command, limits(memory_mb=128, cgroups="off"))
    assert not fallback.out_of_memory and "Killed" not in fallback.output
    assert command_groups(parents) == []


def test_a_fork_bomb_is_capped_at_the_process_ceiling(
    workspace: Path, parents: tuple[int, Path, Path]
) -> None:
    bomb = "bash -c ':(){ :|:& };:'; sleep 30"
    with GroupWatcher(parents) as watcher:
        result = run_command(workspace, bomb, limits(max_processes=40, timeout_seconds=3))
    assert result.timed_out and result.process_limit_hit
    assert watcher.pids_limits == {"40"}
    # It really ran into the ceiling, and never passed it, across all its processes.
    assert 30 <= watcher.peak_pids <= 40, watcher.peak_pids
    assert result.duration_ms < 8000
    assert command_groups(parents) == []
    assert subprocess.run(["true"], timeout=5).returncode == 0  # the host can still fork
    toolbox = Toolbox(workspace, limits(max_processes=40, timeout_seconds=3), file_read_limit=10)
    told = call(toolbox, "run_command", command=bomb)
    assert "[process limit reached: at most 40 processes at once" in told.output


def test_background_leftovers_are_killed_and_the_group_removed(
    workspace: Path, parents: tuple[int, Path, Path]
) -> None:
    result = run_command(workspace, "setsid sleep 60 & echo started", limits())
    assert result.output == "started\n"
    assert command_groups(parents) == []


def test_required_cgroups_refuse_commands_where_none_is_writable(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroups, "_parents", lambda: None)
    with pytest.raises(SandboxUnavailable, match="COMMAND_CGROUPS=required"):
        run_command(workspace, "true", limits(cgroups="required"))
    fallback = run_command(workspace, "echo ok", limits(cgroups="auto"))
    assert fallback.output == "ok\n"


@pytest.fixture
def quota_toolbox(workspace: Path) -> Iterator[Toolbox]:
    yield Toolbox(workspace, limits(workspace_quota_mb=1), file_read_limit=1_000_000)


def test_quota_is_checked_after_each_command(quota_toolbox: Toolbox) -> None:
    filled = call(quota_toolbox, "run_command", command="head -c 2000000 /dev/urandom > big.bin")
    assert not filled.ok
    assert "[exit code 0]" in filled.output
    assert (
        "[workspace quota exceeded: the workspace now uses 1.9 MB of its 1 MB quota; "
        "file writes and uploads are refused until files are deleted]" in filled.output
    )
    write = call(quota_toolbox, "write_file", path="notes.md", content="hello")
    assert write == ToolResult(
        "Error: workspace quota exceeded: this write would bring the workspace to 1.9 MB of "
        "its 1 MB quota (it uses 1.9 MB now); delete files to make room",
        ok=False,
    )
    cleaned = call(quota_toolbox, "run_command", command="rm big.bin")
    assert cleaned.ok and "quota" not in cleaned.output
    assert call(quota_toolbox, "write_file", path="notes.md", content="hello").ok


def test_quota_is_checked_before_tool_writes(quota_toolbox: Toolbox, workspace: Path) -> None:
    big = "x" * 700_000
    assert call(quota_toolbox, "write_file", path="a.txt", content=big).ok
    assert call(quota_toolbox, "write_file", path="a.txt", content=big + "y").ok  # a rewrite
    refused = call(quota_toolbox, "write_file", path="b.txt", content=big)
    assert not refused.ok
    assert "workspace quota exceeded: this write would bring the workspace to 1.3 MB" in (
        refused.output
    )
    assert not (workspace / "b.txt").exists()
    (workspace / "c.txt").write_text("MARK" + "." * 200_000)
    grown = call(quota_toolbox, "edit_file", path="c.txt", old_text="MARK", new_text="y" * 200_000)
    assert not grown.ok and "workspace quota exceeded" in grown.output
    assert (workspace / "c.txt").read_text().startswith("MARK")
    shrunk = call(quota_toolbox, "edit_file", path="c.txt", old_text="MARK", new_text="")
    assert shrunk.ok

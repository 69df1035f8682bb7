"""Real bubblewrap, real processes: what a command can and cannot do."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from compymac_rx.agent.sandbox import (
    BWRAP_MISSING_MESSAGE,
    SandboxLimits,
    SandboxUnavailable,
    run_command,
    sandbox_uid,
)


def limits(**changes: object) -> SandboxLimits:
    values: dict[str, object] = {
        "timeout_seconds": 10,
        "cpu_seconds": 10,
        "memory_mb": 512,
        "max_processes": 64,
        "output_limit": 10_000,
        "allow_unsandboxed": False,
    }
    values.update(changes)
    return SandboxLimits(**values)  # type: ignore[arg-type]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "user" / "session"
    path.mkdir(parents=True)
    return path


def processes_of(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        if int(uid_line.split()[1]) == uid:
            pids.append(int(entry))
    return pids


def test_runs_a_command_and_merges_stderr(workspace: Path) -> None:
    result = run_command(workspace, "echo out; echo err >&2; exit 3", limits())
    assert result.exit_code == 3
    assert result.output == "out\nerr\n"
    assert not result.timed_out
    assert not result.truncated
    assert result.duration_ms >= 0


def test_workspace_is_writable_at_slash_workspace(workspace: Path) -> None:
    result = run_command(workspace, "pwd; echo hi > made.txt; mkdir -p sub/dir", limits())
    assert result.exit_code == 0, result.output
    assert result.output == "/workspace\n"
    assert (workspace / "made.txt").read_text() == "hi\n"
    assert (workspace / "sub" / "dir").is_dir()


def test_files_written_by_the_app_stay_editable(workspace: Path) -> None:
    (workspace / "notes").mkdir()
    (workspace / "notes" / "todo.md").write_text("one\n")
    result = run_command(workspace, "echo two >> notes/todo.md && touch notes/new", limits())
    assert result.exit_code == 0, result.output
    assert (workspace / "notes" / "todo.md").read_text() == "one\ntwo\n"


def test_everything_outside_the_workspace_is_read_only(workspace: Path) -> None:
    result = run_command(workspace, "echo x > /usr/x", limits())
    assert result.exit_code != 0
    assert "Read-only file system" in result.output
    assert not Path("/usr/x").exists()
    result = run_command(workspace, "touch /etc/x || touch /x", limits())
    assert result.exit_code != 0


def test_other_workspaces_and_host_files_are_invisible(tmp_path: Path, workspace: Path) -> None:
    other = tmp_path / "user" / "other-session"
    other.mkdir()
    (other / "secret.txt").write_text("TOP-SECRET-42")
    result = run_command(workspace, f"cat {other}/secret.txt /etc/shadow", limits())
    assert "TOP-SECRET-42" not in result.output
    assert result.output.count("No such file or directory") == 2
    # Positive control: the same secret inside this workspace is read and shown.
    (workspace / "mine.txt").write_text("TOP-SECRET-42")
    assert "TOP-SECRET-42" in run_command(workspace, "cat mine.txt", limits()).output
    listing = run_command(workspace, "ls -A /workspace/..; ls -A /etc", limits()).output.split()
    assert "other-session" not in listing
    assert "root" not in listing
    assert "shadow" not in listing
    assert "passwd" in listing
    root = set(listing[: listing.index("alternatives")])
    assert root <= {"bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr", "workspace"}


def test_network_is_unreachable(workspace: Path) -> None:
    # A real server on the host's loopback: the sandbox has its own, empty network namespace.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    probe = (
        "import socket\n"
        f"for address in [('127.0.0.1', {port}), ('1.1.1.1', 80), ('10.0.0.1', 80)]:\n"
        "    try:\n"
        "        socket.create_connection(address, timeout=2)\n"
        "        print('CONNECTED', address)\n"
        "    except OSError as error:\n"
        "        print('blocked', address, error)\n"
    )
    try:
        (workspace / "probe.py").write_text(probe)
        result = run_command(workspace, "python3 probe.py; curl -sS -m 2 http://1.1.1.1", limits())
    finally:
        server.close()
    assert "CONNECTED" not in result.output
    assert result.output.count("blocked") == 3
    assert "Failed to connect" in result.output or "Could not resolve" in result.output


def test_fork_bomb_is_contained(workspace: Path) -> None:
    bomb = "bash -c ':(){ :|:& };:'; sleep 60"
    result = run_command(workspace, bomb, limits(timeout_seconds=3, max_processes=64))
    assert result.timed_out
    assert result.duration_ms < 6000
    assert "Resource temporarily unavailable" in result.output
    if os.geteuid() == 0:
        assert processes_of(sandbox_uid(workspace.resolve())) == []
    assert subprocess.run(["true"], timeout=5).returncode == 0  # the host can still fork


def test_endless_loop_is_killed_at_the_timeout(workspace: Path) -> None:
    result = run_command(workspace, "while true; do :; done", limits(timeout_seconds=2))
    assert result.timed_out
    assert result.exit_code is None
    assert 1900 <= result.duration_ms < 4000


def test_background_processes_do_not_outlive_the_command(workspace: Path) -> None:
    result = run_command(workspace, "sleep 30 & echo started", limits(timeout_seconds=5))
    assert result.output == "started\n"
    assert not result.timed_out
    assert result.duration_ms < 3000


def test_cpu_and_memory_limits(workspace: Path) -> None:
    spin = run_command(
        workspace, "while true; do :; done", limits(cpu_seconds=1, timeout_seconds=10)
    )
    assert not spin.timed_out
    assert spin.exit_code is not None and spin.exit_code > 128  # SIGXCPU or SIGKILL
    hog = "python3 -c 'bytearray(400 * 1024 * 1024)'"
    killed = run_command(workspace, hog, limits(memory_mb=128))
    assert killed.exit_code == 137 and killed.out_of_memory  # the cgroup's OOM killer
    # Without a cgroup, the per-process address-space limit is the fallback.
    refused = run_command(workspace, hog, limits(memory_mb=128, cgroups="off"))
    assert refused.exit_code != 0 and "MemoryError" in refused.output
    assert not refused.out_of_memory


def test_output_is_capped_and_marked_truncated(workspace: Path) -> None:
    result = run_command(workspace, "seq 1 200000", limits(output_limit=1000))
    assert result.truncated
    assert len(result.output) <= 1000
    assert result.output.startswith("1\n2\n3\n")
    assert result.exit_code == 0  # drained to the end, not killed
    assert not result.timed_out


def test_environment_is_scrubbed(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPYMAC_FAKE_SECRET", "sk-do-not-leak")
    result = run_command(workspace, "env", limits())
    assert "sk-do-not-leak" not in result.output
    assert "COMPYMAC_FAKE_SECRET" not in result.output
    assert "HOME=/workspace" in result.output
    assert "LANG=C.UTF-8" in result.output


def test_missing_bwrap_disables_commands(workspace: Path) -> None:
    with pytest.raises(SandboxUnavailable) as raised:
        run_command(workspace, "true", limits(), bwrap="bwrap-is-not-installed")
    assert str(raised.value) == BWRAP_MISSING_MESSAGE
    assert "apt-get install bubblewrap" in str(raised.value)
    assert "SANDBOX_ALLOW_UNSANDBOXED=true" in str(raised.value)


def test_unsandboxed_fallback_keeps_limits_and_scrubs_env(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPYMAC_FAKE_SECRET", "sk-do-not-leak")
    allowed = limits(allow_unsandboxed=True, timeout_seconds=1)
    result = run_command(workspace, "pwd; env; echo hi > f.txt", allowed, bwrap="no-bwrap")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == str(workspace.resolve())
    assert "sk-do-not-leak" not in result.output
    assert (workspace / "f.txt").read_text() == "hi\n"
    looping = run_command(workspace, "while true; do :; done", allowed, bwrap="no-bwrap")
    assert looping.timed_out


def test_limits_from_settings() -> None:
    from compymac_rx.settings import load_settings

    settings = load_settings(command_timeout_seconds=5, sandbox_allow_unsandboxed=True)
    built = SandboxLimits.from_settings(settings)
    assert built.timeout_seconds == 5
    assert built.allow_unsandboxed
    assert built.output_limit == settings.command_output_limit
    assert (built.cgroups, built.workspace_quota_mb) == ("auto", 500)

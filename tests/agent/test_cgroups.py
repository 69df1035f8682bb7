"""Per-command cgroups: finding where to make them, and one group's life on this machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from compymac_rx.agent import cgroups

HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
CONTAINER_V2 = "30 22 0:26 /app.slice /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def test_mounts_and_own_groups_are_parsed() -> None:
    mounts = cgroups._cgroup_mounts(HYBRID)
    assert mounts == {
        "memory": ("/", Path("/sys/fs/cgroup/memory")),
        "pids": ("/", Path("/sys/fs/cgroup/pids")),
        "": ("/", Path("/sys/fs/cgroup/unified")),
    }
    own = cgroups._own_groups("8:pids:/\n4:memory:/api/abc\n1:cpu,cpuacct:/\n0::/\n")
    assert own == {"pids": "/", "memory": "/api/abc", "cpu": "/", "cpuacct": "/", "": "/"}
    assert cgroups._cgroup_mounts(CONTAINER_V2) == {"": ("/app.slice", Path("/sys/fs/cgroup"))}


def test_a_subtree_mount_maps_the_own_path_beneath_it(tmp_path: Path) -> None:
    (tmp_path / "worker").mkdir()
    mounts = {"": ("/app.slice", tmp_path)}
    assert cgroups._folder(mounts, {"": "/app.slice/worker"}, "") == tmp_path / "worker"
    assert cgroups._folder(mounts, {"": "/elsewhere"}, "") is None  # not visible here
    assert cgroups._folder(mounts, {}, "") is None


def test_v2_groups_get_both_ceilings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A plain folder stands in for a delegated cgroup2 group: only the writes are checked.
    monkeypatch.setattr(cgroups, "_parents", lambda: (2, tmp_path, tmp_path))
    group = cgroups.create_group(64, 10)
    assert group is not None and group.folders == [group.memory]
    assert (group.memory / "memory.max").read_text() == str(64 * 1024 * 1024)
    assert (group.memory / "memory.swap.max").read_text() == "0"
    assert (group.memory / "pids.max").read_text() == "10"
    (group.memory / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (group.memory / "pids.events").write_text("max 0\n")
    assert group.outcome() == cgroups.Outcome(out_of_memory=True, process_limit_hit=False)


def test_a_v1_group_on_this_machine_holds_its_child_and_goes_away() -> None:
    parents = cgroups._parents()
    assert parents is not None and parents[0] == 1  # ENVIRONMENT.md: v1 memory and pids
    group = cgroups.create_group(64, 10)
    assert group is not None
    try:
        assert (group.memory / "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
        assert (group.pids / "pids.max").read_text().strip() == "10"
        group.open_for_join()
        child = subprocess.run(
            ["cat", "/proc/self/cgroup"], capture_output=True, text=True, preexec_fn=group.join
        )
        joined = dict(line.split(":")[1:] for line in child.stdout.splitlines())
        assert joined["memory"].endswith(f"/{group.memory.name}")
        assert joined["pids"].endswith(f"/{group.pids.name}")
        assert group.outcome() == cgroups.Outcome(False, False)
    finally:
        group.remove()
    assert not group.memory.exists() and not group.pids.exists()


def fake_v2_group(folder: Path, *, controllers: str, enabled: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "cgroup.controllers").write_text(controllers)
    (folder / "cgroup.subtree_control").write_text(enabled)
    return folder


def test_v2_uses_the_own_group_or_a_delegating_parent(tmp_path: Path) -> None:
    own = fake_v2_group(tmp_path / "own", controllers="cpu memory pids", enabled="")
    assert cgroups._v2_delegates(own, enable=True)  # a plain file takes the write
    assert (own / "cgroup.subtree_control").read_text() == "+memory +pids"
    busy = fake_v2_group(tmp_path / "busy", controllers="memory pids", enabled="")
    assert not cgroups._v2_delegates(busy, enable=False)
    given = fake_v2_group(tmp_path / "given", controllers="memory pids", enabled="memory pids")
    assert cgroups._v2_delegates(given, enable=False)
    hybrid = fake_v2_group(tmp_path / "hybrid", controllers="", enabled="")
    assert not cgroups._v2_delegates(hybrid, enable=True)
    assert (hybrid / "cgroup.subtree_control").read_text() == ""  # nothing tried there

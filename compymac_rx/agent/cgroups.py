"""One cgroup per sandboxed command: a memory and a process ceiling across all its processes.

rlimits are per process (RLIMIT_AS) or per uid (RLIMIT_NPROC): twenty processes of 1 GB each
pass an address-space limit of 1 GB, and a uid-wide process count is shared with anything
else that runs as that uid. A cgroup bounds the command as a whole.

Where: a child of the cgroup this app runs in (so a command never gets more than the app
itself was given), named `compymac-<app pid>-<random>`. cgroup v2 when the app's group can
hand the memory and pids controllers to children; else cgroup v1 (separate `memory` and
`pids` hierarchies). The command's first process joins the group between fork and exec, so
everything it starts is inside from its first instruction. The group is killed and removed
when the command ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import logging
import os
import secrets
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

_PREFIX = "compymac-"
_REMOVE_SECONDS = 3.0
NO_CGROUP_MESSAGE = (
    "Commands are disabled: COMMAND_CGROUPS=required but no writable cgroup (v2 with the "
    "memory and pids controllers delegated, or v1 memory and pids) was found for this process."
)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the kernel counted for the group: an OOM kill, forks refused at the ceiling."""

    out_of_memory: bool
    process_limit_hit: bool


@dataclasses.dataclass
class CommandGroup:
    """The group folders of one command (one for v2, memory + pids for v1)."""

    version: int
    memory: Path
    pids: Path
    _join_fds: list[int] = dataclasses.field(default_factory=list)

    @property
    def folders(self) -> list[Path]:
        return [self.memory] if self.memory == self.pids else [self.memory, self.pids]

    def open_for_join(self) -> None:
        # Opened here, written by the child: the preexec hook must not open files or allocate.
        self._join_fds = [
            os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for folder in self.folders
        ]

    def join(self) -> None:
        """Runs in the child between fork and exec: "0" moves the writing process itself."""
        for fd in self._join_fds:
            os.write(fd, b"0")

    def outcome(self) -> Outcome:
        if self.version == 2:
            oom = _counter(self.memory / "memory.events", "oom_kill")
        else:
            oom = _counter(self.memory / "memory.oom_control", "oom_kill")
        return Outcome(oom > 0, _counter(self.pids / "pids.events", "max") > 0)

    def remove(self) -> None:
        """Kill whatever is left in the group, then remove it (retrying while it drains)."""
        for fd in self._join_fds:
            os.close(fd)
        self._join_fds = []
        deadline = time.monotonic() + _REMOVE_SECONDS
        for folder in self.folders:
            while True:
                _kill_members(folder, self.version)
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY or time.monotonic() > deadline:
                        log.warning("could not remove cgroup %s: %s", folder, error)
                        break
                    time.sleep(0.02)


def create_group(memory_mb: int, max_processes: int) -> CommandGroup | None:
    """A fresh group with both ceilings set, or None when this host offers no writable one."""
    parents = _parents()
    if parents is None:
        return None
    version, memory_parent, pids_parent = parents
    # The pid tells apart the groups of app processes that share a parent (v1 often
    # has every process in the root group).
    name = f"{group_prefix()}{secrets.token_hex(8)}"
    memory_bytes = str(memory_mb * 1024 * 1024)
    if version == 2:
        folder = memory_parent / name
        folder.mkdir(mode=0o700)
        group = CommandGroup(2, folder, folder)
        try:
            _write(folder / "memory.max", memory_bytes)
            _write(folder / "memory.swap.max", "0", optional=True)
            _write(folder / "pids.max", str(max_processes))
        except OSError:
            group.remove()
            raise
        return group
    memory, pids = memory_parent / name, pids_parent / name
    memory.mkdir(mode=0o700)
    group = CommandGroup(1, memory, memory)
    try:
        pids.mkdir(mode=0o700)
        group = CommandGroup(1, memory, pids)
        _write(memory / "memory.limit_in_bytes", memory_bytes)
        # Without this the command could spill past the limit into swap.
        _write(memory / "memory.memsw.limit_in_bytes", memory_bytes, optional=True)
        _write(pids / "pids.max", str(max_processes))
    except OSError:
        group.remove()
        raise
    return group


def group_prefix() -> str:
    """The name every command group of this process starts with."""
    return f"{_PREFIX}{os.getpid()}-"


@functools.cache
def _parents() -> tuple[int, Path, Path] | None:
    """(version, memory parent, pids parent) for this process, probed once; None if none."""
    mounts = _cgroup_mounts(Path("/proc/self/mountinfo").read_text())
    own = _own_groups(Path("/proc/self/cgroup").read_text())
    unified = _folder(mounts, own, "")
    if unified is not None:
        # The app's own group if it can hand the controllers to children (it must hold no
        # processes itself, unless it is the root), else its parent where they are already
        # handed out: systemd `Delegate=memory pids` with `DelegateSubgroup=app`.
        if _v2_delegates(unified, enable=True):
            return 2, unified, unified
        parent = unified.parent
        if parent.is_relative_to(mounts[""][1]) and _v2_delegates(parent, enable=False):
            return 2, parent, parent
    memory, pids = _folder(mounts, own, "memory"), _folder(mounts, own, "pids")
    if memory and pids and os.access(memory, os.W_OK) and os.access(pids, os.W_OK):
        return 1, memory, pids
    log.warning(
        "no writable cgroup for commands (v2 with memory+pids delegated, or v1 memory and "
        "pids): commands get per-process rlimits only (COMMAND_CGROUPS decides if allowed)"
    )
    return None


def _v2_delegates(parent: Path, *, enable: bool) -> bool:
    """Whether children of `parent` get the memory and pids controllers (enabled if asked)."""
    wanted = {"memory", "pids"}
    try:
        if not wanted <= set((parent / "cgroup.controllers").read_text().split()):
            return False  # not ours to hand out (a hybrid host keeps them on v1)
        if not wanted <= set((parent / "cgroup.subtree_control").read_text().split()):
            if not enable:
                return False
            # Fails (EBUSY) when the group holds processes itself and is not the root.
            _write(parent / "cgroup.subtree_control", "+memory +pids")
        return os.access(parent, os.W_OK)
    except OSError:
        return False


def _cgroup_mounts(mountinfo: str) -> dict[str, tuple[str, Path]]:
    """Controller -> (root of the hierarchy shown, mount point), from /proc/self/mountinfo;
    "" is the v2 (unified) hierarchy."""
    found: dict[str, tuple[str, Path]] = {}
    for line in mountinfo.splitlines():
        fields, _, tail = line.partition(" - ")
        kind, _, rest = tail.partition(" ")
        options = rest.split(" ", 1)[-1] if " " in rest else ""
        parts = fields.split(" ")
        mount = (parts[3], Path(parts[4]))
        if kind == "cgroup2":
            found.setdefault("", mount)
        elif kind == "cgroup":
            for option in options.strip().split(","):
                if option in ("memory", "pids"):
                    found.setdefault(option, mount)
    return found


def _folder(mounts: dict[str, tuple[str, Path]], own: dict[str, str], key: str) -> Path | None:
    """This process's group folder in one hierarchy, if it is mounted and visible here."""
    if key not in mounts or key not in own:
        return None
    root, point = mounts[key]
    # A container may mount only a subtree: /proc/self/cgroup paths start at the real root.
    relative = os.path.relpath(own[key], root)
    if relative.startswith(".."):
        return None
    folder = point / relative
    return folder if folder.is_dir() else None


def _own_groups(proc_cgroup: str) -> dict[str, str]:
    """Controller -> this process's group, from /proc/self/cgroup; "" for the v2 hierarchy."""
    groups: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


def _write(path: Path, value: str, *, optional: bool = False) -> None:
    try:
        path.write_text(value)
    except FileNotFoundError:
        if not optional:
            raise


def _counter(path: Path, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    return 0


def _kill_members(folder: Path, version: int) -> None:
    if version == 2 and (folder / "cgroup.kill").exists():
        with contextlib.suppress(OSError):
            _write(folder / "cgroup.kill", "1")
        return
    with contextlib.suppress(OSError):
        for pid in (folder / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), signal.SIGKILL)

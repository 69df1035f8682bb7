"""Runs one shell command inside a workspace: bubblewrap isolation, rlimits and a wall clock.

The command sees only `/usr` (read-only), a few `/etc` files, its workspace at `/workspace`,
private `/tmp`, `/proc` and `/dev`, no network, and none of the app's environment variables.

Memory and processes: each command runs in its own cgroup (compymac_rx.agent.cgroups) with a
memory ceiling and a process ceiling for all its processes together. Where no cgroup is
writable, per-process rlimits are the fallback (COMMAND_CGROUPS decides whether allowed).

Users: when the app runs as root, bwrap sets up the sandbox without a user namespace and
`setpriv` drops the command to an unprivileged uid chosen per workspace, so a command cannot
touch files of the app or of another workspace, and the RLIMIT_NPROC fallback holds (the
kernel ignores it for root, and a user namespace does not help: it counts the outer uid).
A non-root app runs bwrap unprivileged and the fallback counts against the app's own uid.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import resource
import select
import shutil
import signal
import subprocess
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from compymac_rx import beneath
from compymac_rx.agent import cgroups

if TYPE_CHECKING:
    from compymac_rx.settings import Settings

log = logging.getLogger(__name__)

BWRAP_MISSING_MESSAGE = (
    "Commands are disabled: bubblewrap (bwrap) is not installed. Install it with "
    "`apt-get install bubblewrap`, or set SANDBOX_ALLOW_UNSANDBOXED=true to run commands "
    "without isolation (not recommended)."
)
SETPRIV_MISSING_MESSAGE = (
    "Commands are disabled: the app runs as root and /usr/bin/setpriv (util-linux) is missing, "
    "so commands cannot be dropped to an unprivileged user. Install util-linux, or run the app "
    "as a non-root user."
)

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
_SETPRIV = "/usr/bin/setpriv"
# Above the ranges used by adduser, subuid maps and systemd-nspawn, below 2**31.
_SANDBOX_UID_BASE = 2_000_000_000
_SANDBOX_UID_SPAN = 100_000_000
_FILE_SIZE_LIMIT = 512 * 1024 * 1024
_OPEN_FILES_LIMIT = 1024
_TMPFS_MAX_MB = 256
_READ_CHUNK = 65536
_POLL_SECONDS = 0.1
_EXIT_GRACE_SECONDS = 2.0


class SandboxUnavailable(RuntimeError):
    """Commands cannot run safely here; the message says what to install or set."""


@dataclasses.dataclass(frozen=True)
class SandboxLimits:
    """Per-command bounds; output is in bytes.

    Memory and processes are ceilings for the command as a whole (its cgroup); `cgroups`
    says what happens where no cgroup is writable: "auto" falls back to per-process rlimits
    (RLIMIT_AS, RLIMIT_NPROC), "required" refuses to run, "off" always uses the rlimits.
    """

    timeout_seconds: float
    cpu_seconds: int
    memory_mb: int
    max_processes: int
    output_limit: int
    allow_unsandboxed: bool = False
    cgroups: Literal["auto", "required", "off"] = "auto"
    workspace_quota_mb: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxLimits:
        return cls(
            timeout_seconds=settings.command_timeout_seconds,
            cpu_seconds=settings.command_cpu_seconds,
            memory_mb=settings.command_memory_mb,
            max_processes=settings.command_max_processes,
            output_limit=settings.command_output_limit,
            allow_unsandboxed=settings.sandbox_allow_unsandboxed,
            cgroups=settings.command_cgroups,
            workspace_quota_mb=settings.workspace_quota_mb,
        )


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """exit_code is None on a timeout; death by signal N reads 128 + N, as in a shell."""

    exit_code: int | None
    output: str
    timed_out: bool
    truncated: bool
    duration_ms: int
    out_of_memory: bool = False  # the cgroup's OOM killer stopped a process of the command
    process_limit_hit: bool = False  # a fork was refused at the cgroup's process ceiling


def run_command(
    workspace: Path, command: str, limits: SandboxLimits, *, bwrap: str = "bwrap"
) -> CommandResult:
    """Run `sh -c command` in the workspace; `bwrap` is the binary to look up on PATH."""
    workspace = workspace.resolve(strict=True)
    bwrap_path = shutil.which(bwrap)
    if bwrap_path is None:
        if not limits.allow_unsandboxed:
            raise SandboxUnavailable(BWRAP_MISSING_MESSAGE)
        # No isolation at all: only rlimits, the clock and a scrubbed environment. As root,
        # not even the process limit holds (the kernel exempts root from RLIMIT_NPROC).
        env = {"PATH": SANDBOX_PATH, "HOME": str(workspace), "LANG": "C.UTF-8", "TERM": "dumb"}
        return _execute(["/bin/sh", "-c", command], cwd=workspace, env=env, limits=limits)

    as_root = os.geteuid() == 0
    if as_root and not os.path.exists(_SETPRIV):
        raise SandboxUnavailable(SETPRIV_MISSING_MESSAGE)
    uid = sandbox_uid(workspace) if as_root else os.getuid()
    if as_root:
        _hand_over(workspace, uid)
    passwd = _memfd(
        "passwd", f"root:x:0:0::/:/usr/sbin/nologin\nsandbox:x:{uid}:{uid}::/workspace:/bin/sh\n"
    )
    group = _memfd("group", f"root:x:0:\nsandbox:x:{uid}:\n")
    options = [
        *_namespace_args(as_root),
        *_filesystem_args(workspace, passwd=passwd, group=group, limits=limits),
        *_env_args(),
        *(_ROOT_CAPS if as_root else []),
    ]
    # Options go through a file descriptor, which keeps host paths out of /proc/1/cmdline.
    args = _memfd("bwrap-args", "".join(f"{option}\0" for option in options))
    try:
        argv = [
            bwrap_path,
            "--args",
            str(args),
            *(_drop_to(uid) if as_root else []),
            "/bin/sh",
            "-c",
            command,
        ]
        return _execute(argv, cwd=None, env={}, limits=limits, pass_fds=(passwd, group, args))
    finally:
        for fd in (passwd, group, args):
            os.close(fd)


def sandbox_uid(workspace: Path) -> int:
    """The unprivileged uid that commands of this workspace run as when the app is root."""
    return _SANDBOX_UID_BASE + zlib.crc32(os.fsencode(workspace)) % _SANDBOX_UID_SPAN


def _namespace_args(as_root: bool) -> list[str]:
    common = ["--die-with-parent", "--new-session", "--hostname", "workspace"]
    if as_root:
        # No user namespace: setpriv needs a real uid to drop to (see the module docstring).
        unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        return [*unshare, "--unshare-cgroup-try", *common]
    return ["--unshare-all", "--unshare-user", "--disable-userns", *common]


def _filesystem_args(
    workspace: Path, *, passwd: int, group: int, limits: SandboxLimits
) -> list[str]:
    tmpfs_size = str(min(limits.memory_mb, _TMPFS_MAX_MB) * 1024 * 1024)
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        if os.path.exists(f"/usr/{name}"):
            args += ["--symlink", f"usr/{name}", f"/{name}"]
    # Only what the dynamic linker, alternatives and name lookups need, not the host's /etc.
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in (
        "alternatives",
        "ld.so.cache",
        "ld.so.conf",
        "ld.so.conf.d",
        "nsswitch.conf",
        "hosts",
    ):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += ["--perms", "0644", "--ro-bind-data", str(passwd), "/etc/passwd"]
    args += ["--perms", "0644", "--ro-bind-data", str(group), "/etc/group"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for tmp in ("/tmp", "/dev/shm"):
        args += ["--perms", "1777", "--size", tmpfs_size, "--tmpfs", tmp]
    return [*args, "--bind", str(workspace), "/workspace", "--chdir", "/workspace"]


def _env_args() -> list[str]:
    env = {"PATH": SANDBOX_PATH, "HOME": "/workspace", "LANG": "C.UTF-8", "TERM": "dumb"}
    args = ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


# bwrap keeps only these capabilities, for setpriv, which loses them on the uid change;
# bwrap also sets no_new_privs and mounts nosuid, so nothing can take them back.
_ROOT_CAPS = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]


def _drop_to(uid: int) -> list[str]:
    setpriv = [_SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    return [*setpriv, "--inh-caps=-all", "--bounding-set=-all", "--"]


def _hand_over(workspace: Path, uid: int) -> None:
    """Give the workspace to the sandbox uid so commands can change files the app wrote.

    Through descriptors (compymac_rx.beneath): a symlink, even one swapped in while we
    walk, is never followed, and chown itself does not follow one.
    """
    with beneath.opened_root(workspace) as root:
        os.fchown(root, uid, uid)
        for found in beneath.walk(root):
            info = found.entry.info
            if info.st_uid == uid and info.st_gid == uid:
                continue
            # A hard link could point at a file outside; commands cannot make one, but
            # chowning it would hand that file over, so leave it alone.
            if found.entry.is_file and info.st_nlink > 1:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.chown(found.entry.name, uid, uid, dir_fd=found.dir_fd, follow_symlinks=False)


def _memfd(name: str, text: str) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, text.encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _rlimits(limits: SandboxLimits, *, in_cgroup: bool) -> list[tuple[int, int, int]]:
    wanted = [
        # One second of grace between SIGXCPU and SIGKILL.
        (resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
        (resource.RLIMIT_FSIZE, _FILE_SIZE_LIMIT, _FILE_SIZE_LIMIT),
        (resource.RLIMIT_NOFILE, _OPEN_FILES_LIMIT, _OPEN_FILES_LIMIT),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if not in_cgroup:
        # The fallback. Address space is not memory use (runtimes reserve far more than they
        # touch) and the process count is per uid, so these are kept only without a cgroup.
        memory = limits.memory_mb * 1024 * 1024
        wanted.append((resource.RLIMIT_AS, memory, memory))
        wanted.append((resource.RLIMIT_NPROC, limits.max_processes, limits.max_processes))
    capped = []
    for kind, soft, hard in wanted:
        # A non-root process cannot raise its hard limit, only lower it.
        _, current = resource.getrlimit(kind)
        ceiling = hard if current == resource.RLIM_INFINITY else min(hard, current)
        capped.append((kind, min(soft, ceiling), ceiling))
    return capped


def _prepare_child(group: cgroups.CommandGroup | None, rlimits: list[tuple[int, int, int]]) -> None:
    # Runs between fork and exec: computed beforehand so the child does as little as possible.
    if group is not None:
        group.join()
    for kind, soft, hard in rlimits:
        resource.setrlimit(kind, (soft, hard))


def _command_group(limits: SandboxLimits) -> cgroups.CommandGroup | None:
    if limits.cgroups == "off":
        return None
    try:
        group = cgroups.create_group(limits.memory_mb, limits.max_processes)
    except OSError as error:
        log.warning("could not create a cgroup for a command: %s", error)
        group = None
    if group is None:
        if limits.cgroups == "required":
            raise SandboxUnavailable(cgroups.NO_CGROUP_MESSAGE)
        return None
    try:
        group.open_for_join()
    except OSError:
        group.remove()
        raise
    return group


def _execute(
    argv: list[str],
    *,
    cwd: Path | None,
    env: dict[str, str],
    limits: SandboxLimits,
    pass_fds: tuple[int, ...] = (),
) -> CommandResult:
    group = _command_group(limits)
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=pass_fds,
            start_new_session=True,
            preexec_fn=functools.partial(
                _prepare_child, group, _rlimits(limits, in_cgroup=group is not None)
            ),
        )
    except BaseException:
        if group is not None:
            group.remove()
        raise
    try:
        result = _collect(process, limits)
    finally:
        outcome = group.outcome() if group is not None else cgroups.Outcome(False, False)
        if group is not None:
            group.remove()
    return dataclasses.replace(
        result,
        out_of_memory=outcome.out_of_memory,
        process_limit_hit=outcome.process_limit_hit,
    )


def _collect(process: subprocess.Popen[bytes], limits: SandboxLimits) -> CommandResult:
    started = time.monotonic()
    deadline = started + limits.timeout_seconds
    assert process.stdout is not None
    kept = bytearray()
    truncated = False
    timed_out = False
    try:
        timed_out, truncated = _read_output(
            process, process.stdout.fileno(), kept, deadline, limits
        )
        if not timed_out:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        # Also ends what a command left running in the background. Inside bwrap the pid
        # namespace already dies with it; this matters for the unsandboxed fallback.
        _kill_group(process)
        process.wait()
        _wait_for_writers(process.stdout.fileno())
        process.stdout.close()
    output = kept.decode("utf-8", errors="replace")
    if truncated:
        output = output.removesuffix("\ufffd")  # a character cut in half at the limit
    return CommandResult(
        exit_code=None if timed_out else _shell_status(process.returncode),
        output=output,
        timed_out=timed_out,
        truncated=truncated,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _read_output(
    process: subprocess.Popen[bytes],
    fd: int,
    kept: bytearray,
    deadline: float,
    limits: SandboxLimits,
) -> tuple[bool, bool]:
    """Collect output until EOF or the deadline; past the limit, drain so the writer never blocks.

    Returns (timed_out, truncated).
    """
    truncated = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True, truncated
        ready, _, _ = select.select([fd], [], [], min(remaining, _POLL_SECONDS))
        if not ready:
            if process.poll() is not None:
                # Exited; whatever still holds the pipe is a leftover and gets killed.
                return False, truncated
            continue
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            return False, truncated
        room = limits.output_limit - len(kept)
        if len(chunk) > room:
            truncated = True
        kept += chunk[: max(room, 0)]


def _wait_for_writers(fd: int) -> None:
    """Wait (briefly) until every process holding the output pipe is gone.

    The kernel tears a pid namespace down after bwrap exits, so without this a fork bomb's
    last processes could still count against the next command's process limit.
    """
    deadline = time.monotonic() + _EXIT_GRACE_SECONDS
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready and not os.read(fd, _READ_CHUNK):
            return


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # Called before wait(): the unreaped leader keeps the group id from being reused.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _shell_status(returncode: int) -> int:
    # Popen reports death by signal N as -N; shells and bwrap say 128 + N.
    return 128 - returncode if returncode < 0 else returncode

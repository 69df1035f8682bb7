"""Per-session workspace folders: where they live, making and removing them, their quota.

Everything inside a workspace is reached through `compymac_rx.beneath` (descriptors, no
symlink ever followed); this module only handles the folder as a whole.
"""

from __future__ import annotations

import contextlib
import re
import stat
from pathlib import Path

from compymac_rx import beneath
from compymac_rx.beneath import ABSOLUTE_PATH_MESSAGE, PathEscapeError

__all__ = [
    "ABSOLUTE_PATH_MESSAGE",
    "PathEscapeError",
    "QuotaExceeded",
    "check_quota",
    "create_workspace",
    "delete_workspace",
    "over_quota_after_command",
    "workspace_path",
    "workspace_size",
]

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MB = 1024 * 1024


class QuotaExceeded(ValueError):
    """A write or a command that would take a workspace past its disk quota."""


def workspace_path(root: Path, user_id: str, session_id: str) -> Path:
    """root/user_id/session_id; the ids are checked so they cannot climb out of root."""
    for label, value in (("user id", user_id), ("session id", session_id)):
        if not _ID.fullmatch(value):
            raise ValueError(f"invalid {label} {value!r}: expected 1-64 of A-Z a-z 0-9 _ -")
    return root / user_id / session_id


def create_workspace(path: Path) -> Path:
    # The user's folder too is private: session ids are not secrets. No command can write
    # to it, so the workspace folder itself can never be renamed or replaced by one.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def delete_workspace(path: Path) -> None:
    """Remove a workspace and everything in it, through descriptors; a missing one is fine.

    A symlink inside (or swapped in meanwhile) is removed itself and never followed; a
    workspace that is itself a symlink loses only the link.
    """
    try:
        with beneath.opened_root(path.parent) as parent:
            beneath.remove_entry(parent, path.name)
    except FileNotFoundError:
        pass


def workspace_size(path: Path) -> int:
    """Bytes of disk the workspace's files take; symlinks are not followed; 0 if missing."""
    try:
        with beneath.opened_root(path) as root:
            return beneath.usage(root).bytes
    except FileNotFoundError:
        return 0


def check_quota(root_fd: int, limit_mb: int, *, adding: int = 0, replacing: str = "") -> None:
    """Refuse (QuotaExceeded) when the workspace plus `adding` bytes would pass limit_mb.

    `replacing` names a file the write replaces: its current size is not counted twice.
    """
    used = beneath.usage(root_fd).bytes
    if replacing:
        with contextlib.suppress(OSError, ValueError):
            old = beneath.lstat(root_fd, replacing)
            used -= old.st_blocks * 512 if stat.S_ISREG(old.st_mode) else 0
    if used + adding > limit_mb * _MB:
        raise QuotaExceeded(
            f"workspace quota exceeded: this write would bring the workspace to "
            f"{_mb(used + adding)} of its {limit_mb} MB quota (it uses {_mb(used)} now); "
            "delete files to make room"
        )


def over_quota_after_command(root_fd: int, limit_mb: int) -> str | None:
    """A note for the command's result when the workspace is now past its quota."""
    used = beneath.usage(root_fd).bytes
    if used <= limit_mb * _MB:
        return None
    return (
        f"workspace quota exceeded: the workspace now uses {_mb(used)} of its {limit_mb} MB "
        "quota; file writes and uploads are refused until files are deleted"
    )


def _mb(count: int) -> str:
    return f"{count / _MB:.1f} MB"

"""Per-session workspace folders, and the one way to turn a user-given path into a real one."""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
ABSOLUTE_PATH_MESSAGE = "absolute paths are not allowed: use a path relative to the workspace"


class PathEscapeError(ValueError):
    """A path that would reach outside its workspace."""


def workspace_path(root: Path, user_id: str, session_id: str) -> Path:
    """root/user_id/session_id; the ids are checked so they cannot climb out of root."""
    for label, value in (("user id", user_id), ("session id", session_id)):
        if not _ID.fullmatch(value):
            raise ValueError(f"invalid {label} {value!r}: expected 1-64 of A-Z a-z 0-9 _ -")
    return root / user_id / session_id


def create_workspace(path: Path) -> Path:
    # The user's folder too is private: session ids are not secrets.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def delete_workspace(path: Path) -> None:
    """Remove a workspace and everything in it; a missing one is fine.

    shutil.rmtree works through dir fds here (rmtree.avoids_symlink_attacks), so a symlink
    inside, even one swapped in meanwhile, is removed and never followed.
    """
    if path.is_symlink():
        path.unlink()
        return
    try:
        _make_removable(path)
        shutil.rmtree(path)
    except FileNotFoundError:
        pass


def _make_removable(path: Path) -> None:
    # A command may have run `chmod 000` on a folder; its owner can undo that, so a non-root
    # app can still delete it (root ignores the mode anyway).
    os.chmod(path, 0o700)
    for _, dirs, _, dir_fd in os.fwalk(path, follow_symlinks=False):
        for name in dirs:
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
            except (OSError, ValueError, NotImplementedError):
                continue  # gone, or swapped for a symlink meanwhile: rmtree copes


def workspace_size(path: Path) -> int:
    """Bytes in the regular files under path; symlinks are not followed."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


def resolve_in_workspace(workspace: Path, relative: str) -> Path:
    """The real path of `relative` inside the workspace, or PathEscapeError.

    Symlinks are resolved before the check, so a link pointing outside is refused too.
    "" and "." mean the workspace itself.
    """
    base = workspace.resolve()
    if relative.strip() in ("", "."):
        return base
    if "\x00" in relative:
        raise ValueError("paths cannot contain NUL characters")
    if Path(relative).is_absolute():
        raise PathEscapeError(ABSOLUTE_PATH_MESSAGE)
    if not Path(os.path.normpath(base / relative)).is_relative_to(base):
        raise PathEscapeError(f"{relative!r} is outside the workspace: '..' cannot leave it")
    try:
        resolved = (base / relative).resolve()
    except (RuntimeError, OSError) as error:  # 3.11 raises RuntimeError on a symlink loop
        raise ValueError(f"cannot resolve {relative!r}: {error}") from None
    if not resolved.is_relative_to(base):
        raise PathEscapeError(f"{relative!r} leads outside the workspace through a symbolic link")
    return resolved

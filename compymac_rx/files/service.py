"""The workspace file panel: list, preview, upload, download and delete, owner-checked.

Every function takes the user's id and resolves the session through the chats repository,
so "not yours" and "does not exist" look the same. Every path is then opened beneath the
workspace root's descriptor (compymac_rx.beneath): no symlink is followed, and nothing
checked by name is opened again by name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from compymac_rx import beneath, ratelimit
from compymac_rx.chats import service as chats
from compymac_rx.db import session_scope
from compymac_rx.settings import get_settings
from compymac_rx.workspaces import check_quota

MAX_LISTED = 500
PREVIEW_LIMIT = 100_000
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".jsx": "jsx",
    ".json": "json",
    ".md": "markdown",
    ".sh": "bash",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".toml": "toml",
    ".html": "html",
    ".css": "css",
    ".sql": "sql",
    ".rs": "rust",
    ".go": "go",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".rb": "ruby",
    ".txt": "text",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class FileError(Exception):
    """A refusal worth showing as it is."""


class UploadsLimited(FileError):
    """Over the per-user upload limit; `wait` says how many seconds until the next try."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"Too many uploads. Try again in {wait} s.")
        self.wait = wait


@dataclasses.dataclass(frozen=True)
class FileEntry:
    path: str
    name: str
    is_dir: bool
    size: int
    depth: int


@dataclasses.dataclass(frozen=True)
class Preview:
    path: str
    kind: str  # "text", "image" or "binary"
    text: str
    language: str
    size: int


@dataclasses.dataclass
class Download:
    """An open file to stream: the descriptor was found beneath the workspace root."""

    fd: int
    name: str
    size: int


def workspace_of(user_id: str, session_id: str) -> Path:
    with session_scope() as db:
        try:
            return Path(chats.owned_session(db, user_id, session_id).workspace_path)
        except chats.NotFound as missing:  # the file panel's callers catch FileError
            raise FileError(str(missing)) from None


@contextlib.contextmanager
def _root(user_id: str, session_id: str) -> Iterator[int]:
    """The session's workspace root as a descriptor; refusals become FileError."""
    workspace = workspace_of(user_id, session_id)
    try:
        root = beneath.open_root(workspace)
    except OSError:
        raise FileError("This session's workspace folder is missing.") from None
    try:
        yield root
    except beneath.NotRegularFile:
        raise FileError("That is not a regular file.") from None
    except FileNotFoundError as error:
        raise FileError(f"No such file: {error.filename or '.'}") from None
    except OSError as error:
        raise FileError(f"{error.filename or 'That path'}: {error.strerror}") from None
    except ValueError as error:  # PathEscapeError and QuotaExceeded too
        raise FileError(str(error)) from None
    finally:
        os.close(root)


def list_tree(user_id: str, session_id: str) -> list[FileEntry]:
    """Folders and files, depth first, names sorted; symlinks are listed, never followed."""
    with _root(user_id, session_id) as root:
        return [
            FileEntry(
                found.path,
                found.entry.name,
                found.entry.is_dir,
                found.entry.info.st_size,
                found.depth,
            )
            for found in beneath.walk(root, max_entries=MAX_LISTED)
        ]


def preview(user_id: str, session_id: str, relative: str) -> Preview:
    suffix = PurePosixPath(relative).suffix.lower()
    with _root(user_id, session_id) as root, beneath.opened(root, relative) as fd:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileError(f"{relative} is not a file.")
        if suffix in IMAGE_TYPES:
            return Preview(relative, "image", "", "", info.st_size)
        data, _ = beneath.read_regular(fd, PREVIEW_LIMIT)
    data = data[:PREVIEW_LIMIT]
    if b"\x00" in data:
        return Preview(relative, "binary", "", "", info.st_size)
    text = data.decode("utf-8", errors="replace")
    if info.st_size > PREVIEW_LIMIT:
        text += f"\n… (showing the first {PREVIEW_LIMIT:,} of {info.st_size:,} bytes)"
    return Preview(relative, "text", text, LANGUAGES.get(suffix, "text"), info.st_size)


def open_for_download(user_id: str, session_id: str, relative: str) -> Download:
    """The file, opened beneath the workspace root; the caller streams and closes fd."""
    with _root(user_id, session_id) as root:
        fd = beneath.open_beneath(root, relative)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise FileError(f"{relative} is not a file.")
        # FIFOs were opened non-blocking; a regular file reads the same either way.
        return Download(fd, PurePosixPath(relative).name, info.st_size)


def safe_name(filename: str) -> str:
    """A plain file name: no folders, no leading dots, only common characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        raise FileError("That file name has no usable characters.")
    return name[:120]


def save_upload(user_id: str, session_id: str, filename: str, data: bytes) -> str:
    settings = get_settings()
    limit = settings.upload_max_bytes
    if len(data) > limit:
        raise FileError(f"{filename} is too big: uploads can be at most {limit:,} bytes.")
    if wait := ratelimit.take("upload_user", f"user:{user_id}"):
        raise UploadsLimited(wait)
    name = safe_name(filename)
    with _root(user_id, session_id) as root:
        check_quota(root, settings.workspace_quota_mb, adding=len(data), replacing=name)
        try:
            beneath.write_atomic(root, name, data)
        except IsADirectoryError:
            raise FileError(f"{name} is a folder in the workspace.") from None
    return name


def delete_path(user_id: str, session_id: str, relative: str) -> None:
    with _root(user_id, session_id) as root:
        if not beneath.parts(relative):
            raise FileError("The workspace itself cannot be deleted here.")
        # A symlink (even one pointing out) is removed itself, never followed.
        beneath.remove(root, relative)

"""The workspace file panel: list, preview, upload, download and delete, owner-checked.

Every function takes the user's id and resolves the session through the chats repository,
so "not yours" and "does not exist" look the same. Paths go through resolve_in_workspace.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path

from compymac_rx import ratelimit
from compymac_rx.chats import repository as chats
from compymac_rx.db import session_scope
from compymac_rx.settings import get_settings
from compymac_rx.workspaces import resolve_in_workspace

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


def workspace_of(user_id: str, session_id: str) -> Path:
    with session_scope() as db:
        row = chats.get_session(db, user_id=user_id, session_id=session_id)
        if row is None:
            raise FileError("That session does not exist or is not yours.")
        return Path(row.workspace_path)


def _resolve(user_id: str, session_id: str, relative: str) -> tuple[Path, Path]:
    workspace = workspace_of(user_id, session_id)
    try:
        return workspace.resolve(), resolve_in_workspace(workspace, relative)
    except ValueError as error:
        raise FileError(str(error)) from None


def list_tree(user_id: str, session_id: str) -> list[FileEntry]:
    """Folders and files, depth first, names sorted; symlinks are listed, never followed."""
    root = workspace_of(user_id, session_id).resolve()
    entries: list[FileEntry] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(folder)
        depth = len(base.relative_to(root).parts)
        names = sorted([(d, True) for d in dirs] + [(f, False) for f in files])
        for name, is_dir in names:
            info = os.lstat(base / name)
            relative = (base / name).relative_to(root).as_posix()
            entries.append(FileEntry(relative, name, is_dir, info.st_size, depth))
    # os.walk is top-down per folder; order the listing as a tree.
    entries.sort(key=lambda e: e.path.split("/"))
    return entries[:MAX_LISTED]


def preview(user_id: str, session_id: str, relative: str) -> Preview:
    _, path = _resolve(user_id, session_id, relative)
    if not path.is_file():
        raise FileError(f"{relative} is not a file.")
    size = path.stat().st_size
    suffix = path.suffix.lower()
    if suffix in IMAGE_TYPES:
        return Preview(relative, "image", "", "", size)
    with path.open("rb") as handle:
        data = handle.read(PREVIEW_LIMIT)
    if b"\x00" in data:
        return Preview(relative, "binary", "", "", size)
    text = data.decode("utf-8", errors="replace")
    if size > PREVIEW_LIMIT:
        text += f"\n… (showing the first {PREVIEW_LIMIT:,} of {size:,} bytes)"
    return Preview(relative, "text", text, LANGUAGES.get(suffix, "text"), size)


def file_for_download(user_id: str, session_id: str, relative: str) -> Path:
    _, path = _resolve(user_id, session_id, relative)
    if not path.is_file():  # resolved already: a link inside the workspace is fine
        raise FileError(f"{relative} is not a file.")
    return path


def safe_name(filename: str) -> str:
    """A plain file name: no folders, no leading dots, only common characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        raise FileError("That file name has no usable characters.")
    return name[:120]


def save_upload(user_id: str, session_id: str, filename: str, data: bytes) -> str:
    limit = get_settings().upload_max_bytes
    if len(data) > limit:
        raise FileError(f"{filename} is too big: uploads can be at most {limit:,} bytes.")
    if wait := ratelimit.take("upload_user", f"user:{user_id}"):
        raise FileError(f"Too many uploads. Try again in {wait} s.")
    name = safe_name(filename)
    root, path = _resolve(user_id, session_id, name)
    if path.is_dir():
        raise FileError(f"{name} is a folder in the workspace.")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(path, flags, 0o644), "wb") as handle:
        handle.write(data)
    return path.relative_to(root).as_posix()


def delete_path(user_id: str, session_id: str, relative: str) -> None:
    root = workspace_of(user_id, session_id).resolve()
    if relative.strip() in ("", "."):
        raise FileError("The workspace itself cannot be deleted here.")
    target = root / relative
    # lexists: a symlink (even one pointing out) is removed itself, never followed.
    if not os.path.normpath(target).startswith(str(root) + os.sep) or not os.path.lexists(target):
        raise FileError(f"No such file: {relative}")
    _resolve(user_id, session_id, str(Path(relative).parent))  # the folder must be inside
    if target.is_symlink() or target.is_file():
        target.unlink()
    else:
        shutil.rmtree(target)

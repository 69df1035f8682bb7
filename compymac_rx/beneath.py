"""Workspace files through directory descriptors: never re-walk a path that was checked.

A sandboxed command owns its workspace and can swap any folder for a symlink at any moment
(renameat2 RENAME_EXCHANGE in a loop). A check by name followed by an open by name loses
that race. So every operation here starts from the workspace root held open as a descriptor
and resolves beneath it: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has
it (Linux 5.6+), else one component at a time with O_NOFOLLOW relative to the previous
descriptor. Reads, writes, listings, stats and deletes then go through the descriptor found.
Symlinks inside a workspace are listed but never followed, wherever they point.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import functools
import os
import platform
import posixpath
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

ABSOLUTE_PATH_MESSAGE = "absolute paths are not allowed: use a path relative to the workspace"

_SYS_OPENAT2 = {"x86_64": 437, "aarch64": 437}
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_RESOLVE = _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS
# O_NONBLOCK: a FIFO left by a command opens at once (and is refused) instead of hanging.
_BASE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _BASE_FLAGS
_CHUNK = 65536
_AT_FDCWD = -100


class PathEscapeError(ValueError):
    """A path that would reach outside its workspace, or through a symbolic link."""


class NotRegularFile(OSError):
    """A FIFO, socket or device where a file was expected: never read or served."""

    def __init__(self, filename: str = "") -> None:
        super().__init__(errno.EINVAL, "not a regular file", filename)


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_Openat2 = Callable[[int, bytes, int, int], int]


@functools.cache
def _openat2() -> _Openat2 | None:
    """openat2(dir_fd, path, flags, mode) -> fd or -errno, when this kernel has it; else None.

    Probed once per process: any failure (ENOSYS on an old kernel, EPERM from a seccomp
    filter in some container runtimes) means the component-by-component fallback.
    """
    number = _SYS_OPENAT2.get(platform.machine())
    if number is None:
        return None
    syscall = ctypes.CDLL(None, use_errno=True).syscall
    syscall.restype = ctypes.c_long

    def call(dir_fd: int, path: bytes, flags: int, mode: int) -> int:
        how = _OpenHow(flags, mode, _RESOLVE)
        # Every argument as a full register: syscall() is variadic and the kernel reads
        # the size as a size_t.
        fd = int(
            syscall(
                ctypes.c_long(number),
                ctypes.c_long(dir_fd),
                ctypes.c_char_p(path),
                ctypes.byref(how),
                ctypes.c_size_t(ctypes.sizeof(how)),
            )
        )
        return fd if fd >= 0 else -ctypes.get_errno()

    probe = call(_AT_FDCWD, b".", _DIR_FLAGS, 0)
    if probe < 0:
        return None
    os.close(probe)
    return call


def uses_openat2() -> bool:
    return _openat2() is not None


def parts(relative: str) -> list[str]:
    """The components of a workspace-relative path; [] is the root itself.

    '..' may move within the path but never above its start, so a path is judged by text
    alone: what a component really is gets decided by the kernel at open time.
    """
    if "\x00" in relative:
        raise ValueError("paths cannot contain NUL characters")
    if relative.lstrip().startswith("/"):
        raise PathEscapeError(ABSOLUTE_PATH_MESSAGE)
    if relative.strip() in ("", "."):
        return []
    normal = posixpath.normpath(relative)
    if normal == ".." or normal.startswith("../"):
        raise PathEscapeError(f"{relative!r} is outside the workspace: '..' cannot leave it")
    return [] if normal == "." else normal.split("/")


def _symlink_error(relative: str) -> PathEscapeError:
    return PathEscapeError(f"{relative} leads through a symbolic link; links are not followed")


def open_root(path: Path | str) -> int:
    """The workspace folder itself, as a descriptor.

    Its path comes from our database and we created it and its parent (0700), so only the
    last component needs O_NOFOLLOW: a workspace that became a symlink is refused.
    """
    return os.open(path, _DIR_FLAGS)


@contextlib.contextmanager
def opened_root(path: Path | str) -> Iterator[int]:
    fd = open_root(path)
    try:
        yield fd
    finally:
        os.close(fd)


def open_beneath(root_fd: int, relative: str, flags: int = os.O_RDONLY, mode: int = 0o644) -> int:
    """A descriptor for `relative` beneath root_fd; no symlink is ever followed.

    ELOOP (a symlink on the way or at the end) becomes PathEscapeError; other failures
    (missing, not a folder...) rise as OSError with the relative path as filename.
    """
    names = parts(relative)
    shown = "/".join(names) or "."
    flags |= _BASE_FLAGS
    if flags & os.O_DIRECTORY and not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
        # Checked after the open instead: so a symlink says ELOOP, not ENOTDIR.
        fd = open_beneath(root_fd, shown, flags & ~os.O_DIRECTORY, mode)
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), shown)
        return fd
    try:
        openat2 = _openat2()
        if openat2 is not None:
            path = os.fsencode("/".join(names) or ".")
            fd = openat2(root_fd, path, flags, mode if flags & os.O_CREAT else 0)
            if fd < 0:
                raise OSError(-fd, os.strerror(-fd), shown)
            return fd
        return _walk_open(root_fd, names, flags, mode, shown)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EXDEV):
            raise _symlink_error(shown) from None
        error.filename = shown
        raise


def _walk_open(root_fd: int, names: list[str], flags: int, mode: int, shown: str) -> int:
    """The fallback: one component at a time, each opened O_NOFOLLOW beneath the last."""
    current = os.dup(root_fd)
    try:
        for name in names[:-1]:
            following = _open_dir(name, current)
            os.close(current)
            current = following
        if not names:
            return os.open(".", flags, mode, dir_fd=current)
        return os.open(names[-1], flags, mode, dir_fd=current)
    finally:
        os.close(current)


def _open_dir(name: str, dir_fd: int) -> int:
    """A folder by name, O_NOFOLLOW; without O_DIRECTORY a symlink says ELOOP, not ENOTDIR."""
    fd = os.open(name, os.O_RDONLY | _BASE_FLAGS, dir_fd=dir_fd)
    if not stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), name)
    return fd


@contextlib.contextmanager
def opened(root_fd: int, relative: str, flags: int = os.O_RDONLY) -> Iterator[int]:
    fd = open_beneath(root_fd, relative, flags)
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def parent_of(root_fd: int, relative: str, *, create: bool = False) -> Iterator[tuple[int, str]]:
    """(descriptor of the folder holding `relative`, its last name); folders made if asked."""
    names = parts(relative)
    if not names:
        raise IsADirectoryError(errno.EISDIR, "the workspace itself", ".")
    folder = "/".join(names[:-1])
    if create:
        make_dirs(root_fd, folder)
    fd = open_beneath(root_fd, folder, _DIR_FLAGS)
    try:
        yield fd, names[-1]
    finally:
        os.close(fd)


def make_dirs(root_fd: int, relative: str) -> None:
    """mkdir -p beneath root_fd: each level made with mkdirat, then opened O_NOFOLLOW."""
    current = os.dup(root_fd)
    try:
        for index, name in enumerate(parts(relative)):
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=current)
            try:
                following = _open_dir(name, current)
            except OSError as error:
                shown = "/".join(parts(relative)[: index + 1])
                if error.errno == errno.ELOOP:
                    raise _symlink_error(shown) from None
                error.filename = shown
                raise
            os.close(current)
            current = following
    finally:
        os.close(current)


def lstat(root_fd: int, relative: str) -> os.stat_result:
    """What `relative` is (a symlink stays a symlink), found beneath root_fd."""
    with parent_of(root_fd, relative) as (folder, name):
        return os.stat(name, dir_fd=folder, follow_symlinks=False)


def read_regular(fd: int, limit: int) -> tuple[bytes, os.stat_result]:
    """Up to `limit` bytes (one more tells the caller it was cut) of an open regular file."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile()
    chunks = bytearray()
    while len(chunks) <= limit:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - len(chunks)))
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks), info


def read_in(dir_fd: int, name: str, limit: int) -> tuple[bytes, os.stat_result]:
    """read() for one name in an open folder, as walk() gives them."""
    fd = open_in(dir_fd, name)
    try:
        return read_regular(fd, limit)
    finally:
        os.close(fd)


def read(root_fd: int, relative: str, limit: int) -> tuple[bytes, os.stat_result]:
    """The first `limit` + 1 bytes of a regular file beneath root_fd, and its stat."""
    with opened(root_fd, relative) as fd:
        try:
            return read_regular(fd, limit)
        except NotRegularFile as error:
            error.filename = "/".join(parts(relative))
            raise


def write_atomic(root_fd: int, relative: str, data: bytes, *, make_parents: bool = False) -> None:
    """Replace (or create) a file: a new file beside it, then rename over the old name.

    A symlink of that name is refused; should one be swapped in after that check, rename
    replaces the link itself and never follows it. An existing file's mode (an executable
    script) and owner are kept.
    """
    with parent_of(root_fd, relative, create=make_parents) as (folder, name):
        try:
            old: os.stat_result | None = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            old = None
        shown = "/".join(parts(relative))
        if old is not None and stat.S_ISDIR(old.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", shown)
        if old is not None and stat.S_ISLNK(old.st_mode):
            # Renaming over it would be safe (the link itself goes), but say so plainly.
            raise _symlink_error(shown)
        temporary = f".{name[:200]}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(temporary, flags, 0o644, dir_fd=folder)
        try:
            try:
                if old is not None and stat.S_ISREG(old.st_mode):
                    os.fchmod(fd, stat.S_IMODE(old.st_mode))
                    with contextlib.suppress(PermissionError):
                        os.fchown(fd, old.st_uid, old.st_gid)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.rename(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise


@dataclasses.dataclass(frozen=True)
class Entry:
    """One thing in a folder, as lstat sees it (a symlink is a symlink)."""

    name: str
    info: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.info.st_mode)

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.info.st_mode)

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.info.st_mode)


def list_dir(dir_fd: int) -> list[Entry]:
    """The entries of an open folder, sorted by name; ones gone meanwhile are skipped."""
    entries = []
    for name in sorted(os.listdir(dir_fd)):
        try:
            entries.append(Entry(name, os.stat(name, dir_fd=dir_fd, follow_symlinks=False)))
        except FileNotFoundError:
            continue
    return entries


class Found(NamedTuple):
    """One entry met by walk(); dir_fd (its folder) is only open during the iteration."""

    path: str
    entry: Entry
    depth: int
    dir_fd: int


def walk(root_fd: int, relative: str = ".", *, max_entries: int = 100_000) -> Iterator[Found]:
    """Everything under `relative`, depth first with names sorted, at most max_entries.

    Paths are relative to `relative`. Each folder is entered by opening its name O_NOFOLLOW
    beneath its parent's descriptor: one swapped for a symlink meanwhile is skipped.
    """
    start = open_beneath(root_fd, relative, _DIR_FLAGS)
    budget = [max_entries]
    try:
        yield from _walk_from(start, "", 0, budget)
    finally:
        os.close(start)


def _walk_from(dir_fd: int, prefix: str, depth: int, budget: list[int]) -> Iterator[Found]:
    for entry in list_dir(dir_fd):
        if budget[0] <= 0:
            return
        budget[0] -= 1
        path = f"{prefix}{entry.name}"
        yield Found(path, entry, depth, dir_fd)
        if not entry.is_dir:
            continue
        try:
            child = os.open(entry.name, _DIR_FLAGS, dir_fd=dir_fd)
        except OSError:  # gone, unreadable, or swapped for a symlink: not followed
            continue
        try:
            yield from _walk_from(child, f"{path}/", depth + 1, budget)
        finally:
            os.close(child)


def open_in(dir_fd: int, name: str, flags: int = os.O_RDONLY) -> int:
    """One name in an open folder (as walk() gives them), never through a symlink."""
    try:
        return os.open(name, flags | _BASE_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _symlink_error(name) from None
        raise


@dataclasses.dataclass(frozen=True)
class Usage:
    """Disk space the workspace's files take (allocated blocks, hard links counted once)."""

    bytes: int
    entries: int
    complete: bool  # False when the walk stopped at its entry bound


def usage(root_fd: int, *, max_entries: int = 200_000) -> Usage:
    total, count, seen = 0, 0, set()
    for found in walk(root_fd, ".", max_entries=max_entries):
        entry = found.entry
        count += 1
        info = entry.info
        if info.st_nlink > 1 and not entry.is_dir:
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
        total += max(info.st_blocks * 512, 0)
    return Usage(total, count, count < max_entries)


def remove(root_fd: int, relative: str) -> None:
    """Delete a file, a symlink (itself, never its target) or a whole folder."""
    with parent_of(root_fd, relative) as (folder, name):
        remove_entry(folder, name)


def remove_entry(dir_fd: int, name: str) -> None:
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        remove_tree(dir_fd, name)
        return
    try:
        os.unlink(name, dir_fd=dir_fd)
    except IsADirectoryError:  # became a folder meanwhile
        remove_tree(dir_fd, name)


def remove_tree(dir_fd: int, name: str) -> None:
    """rm -rf through descriptors: a symlink met anywhere is unlinked, never followed."""
    try:
        fd = _open_for_removal(dir_fd, name)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a link or a file
            os.unlink(name, dir_fd=dir_fd)
            return
        raise
    try:
        for child in os.listdir(fd):
            try:
                remove_entry(fd, child)
            except FileNotFoundError:
                continue
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=dir_fd)


def _open_for_removal(dir_fd: int, name: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        pass
    # `chmod 000` by a command: its owner may undo that. chmod by name would follow a
    # swapped-in symlink, so pin the folder with O_PATH and chmod the pinned inode.
    pinned = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        os.chmod(f"/proc/self/fd/{pinned}", 0o700)
    finally:
        os.close(pinned)
    return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)

"""Descriptor-based workspace access, with openat2 and with the component-by-component walk."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from compymac_rx import beneath
from compymac_rx.beneath import PathEscapeError


@pytest.fixture(params=["openat2", "fallback"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "openat2":
        assert beneath.uses_openat2(), "this kernel should have openat2 (Linux >= 5.6)"
    else:
        monkeypatch.setattr(beneath, "_openat2", lambda: None)
        assert not beneath.uses_openat2()
    return str(request.param)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("CANARY")
    return folder


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def root(ws: Path, mode: str) -> Iterator[int]:
    with beneath.opened_root(ws) as fd:
        yield fd


def test_parts_judge_the_text_only() -> None:
    assert beneath.parts("") == [] and beneath.parts(" . ") == []
    assert beneath.parts("a/./b//c/") == ["a", "b", "c"]
    assert beneath.parts("a/../b.txt") == ["b.txt"]
    with pytest.raises(PathEscapeError, match="absolute paths are not allowed"):
        beneath.parts("/etc/passwd")
    for escape in ["..", "../x", "a/../../x", "./../../etc"]:
        with pytest.raises(PathEscapeError, match="outside the workspace"):
            beneath.parts(escape)
    with pytest.raises(ValueError, match="NUL"):
        beneath.parts("a\x00b")


def test_read_and_write_beneath(ws: Path, root: int) -> None:
    beneath.write_atomic(root, "notes/today/todo.md", b"- milk\n", make_parents=True)
    assert (ws / "notes" / "today" / "todo.md").read_bytes() == b"- milk\n"
    data, info = beneath.read(root, "notes/today/todo.md", 100)
    assert data == b"- milk\n" and info.st_size == 7
    assert beneath.read(root, "notes/today/todo.md", 3)[0] == b"- mi"  # limit + 1: "was cut"
    assert sorted(os.listdir(ws / "notes" / "today")) == ["todo.md"]  # no temporary left


def test_write_keeps_mode_and_refuses_folders_and_links(ws: Path, root: int, outside: Path) -> None:
    script = ws / "run.sh"
    script.write_text("echo 1\n")
    script.chmod(0o755)
    beneath.write_atomic(root, "run.sh", b"echo 2\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    (ws / "folder").mkdir()
    with pytest.raises(IsADirectoryError):
        beneath.write_atomic(root, "folder", b"x")
    (ws / "link").symlink_to(outside / "secret.txt")
    (ws / "dirlink").symlink_to(outside)
    for path in ["link", "dirlink/secret.txt", "dirlink/new/x.txt"]:
        with pytest.raises(PathEscapeError, match="symbolic link"):
            beneath.write_atomic(root, path, b"overwritten", make_parents=True)
    assert (outside / "secret.txt").read_text() == "CANARY"
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_no_symlink_is_followed_even_inside(ws: Path, root: int, outside: Path) -> None:
    (ws / "real").mkdir()
    (ws / "real" / "f.txt").write_text("inside")
    (ws / "alias").symlink_to("real")  # points inside: still not followed
    (ws / "out").symlink_to(outside)
    (ws / "dangling").symlink_to(outside / "not-yet")
    (ws / "loop").symlink_to("loop")
    for path in ["alias/f.txt", "out/secret.txt", "out", "dangling", "loop/x"]:
        with pytest.raises(PathEscapeError, match="symbolic link"):
            beneath.open_beneath(root, path)
    with pytest.raises(PathEscapeError):
        beneath.open_beneath(root, "dangling", os.O_WRONLY | os.O_CREAT)
    assert not (outside / "not-yet").exists()
    with pytest.raises(FileNotFoundError) as missing:
        beneath.open_beneath(root, "real/nope.txt")
    assert missing.value.filename == "real/nope.txt"  # never the host path
    with pytest.raises(NotADirectoryError):
        beneath.open_beneath(root, "real/f.txt/x")


def test_fifos_are_refused_without_blocking(ws: Path, root: int) -> None:
    os.mkfifo(ws / "pipe")
    with pytest.raises(beneath.NotRegularFile):
        beneath.read(root, "pipe", 10)


def test_walk_lists_links_without_entering_them(ws: Path, root: int, outside: Path) -> None:
    (ws / "b" / "c").mkdir(parents=True)
    (ws / "b" / "c" / "deep.txt").write_text("x")
    (ws / "a.txt").write_text("x")
    (ws / "out").symlink_to(outside)
    found = [(f.path, f.entry.is_dir, f.entry.is_symlink, f.depth) for f in beneath.walk(root)]
    assert found == [
        ("a.txt", False, False, 0),
        ("b", True, False, 0),
        ("b/c", True, False, 1),
        ("b/c/deep.txt", False, False, 2),
        ("out", False, True, 0),
    ]
    assert [f.path for f in beneath.walk(root, "b")] == ["c", "c/deep.txt"]
    assert len(list(beneath.walk(root, max_entries=2))) == 2
    with pytest.raises(PathEscapeError):
        list(beneath.walk(root, "out"))


def test_remove_never_follows_links(ws: Path, root: int, outside: Path) -> None:
    (ws / "tree" / "sub").mkdir(parents=True)
    (ws / "tree" / "sub" / "f.txt").write_text("x")
    (ws / "tree" / "sub" / "out").symlink_to(outside)
    (ws / "tree" / "locked").mkdir()
    (ws / "tree" / "locked" / "g.txt").write_text("x")
    (ws / "tree" / "locked").chmod(0o000)  # what `chmod 000` in a command leaves
    (ws / "link").symlink_to(outside)
    beneath.remove(root, "link")
    beneath.remove(root, "tree")
    assert sorted(os.listdir(ws)) == []
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    with pytest.raises(FileNotFoundError):
        beneath.remove(root, "tree")
    with pytest.raises(IsADirectoryError):
        beneath.remove(root, ".")


def test_usage_counts_blocks_once_and_stops_at_its_bound(ws: Path, root: int) -> None:
    (ws / "a.bin").write_bytes(b"x" * 100_000)
    os.link(ws / "a.bin", ws / "b.bin")
    found = beneath.usage(root)
    assert 100_000 <= found.bytes < 120_000 and found.complete
    for index in range(5):
        (ws / f"f{index}").write_text("x")
    assert not beneath.usage(root, max_entries=3).complete


def test_root_that_became_a_symlink_is_refused(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "ws").symlink_to(outside)
    with pytest.raises(OSError):
        beneath.open_root(tmp_path / "ws")

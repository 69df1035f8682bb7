from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from compymac_rx.workspaces import (
    PathEscapeError,
    create_workspace,
    delete_workspace,
    resolve_in_workspace,
    workspace_path,
    workspace_size,
)


def test_workspace_path_joins_root_user_and_session(tmp_path: Path) -> None:
    assert workspace_path(tmp_path, "user_1", "Sess-9") == tmp_path / "user_1" / "Sess-9"


def test_workspace_path_rejects_ids_that_could_climb_out(tmp_path: Path) -> None:
    for bad in ["", ".", "..", "../x", "a/b", "a b", "x" * 65, "é"]:
        with pytest.raises(ValueError):
            workspace_path(tmp_path, bad, "session")
        with pytest.raises(ValueError):
            workspace_path(tmp_path, "user", bad)


def test_create_workspace_is_private_and_idempotent(tmp_path: Path) -> None:
    path = workspace_path(tmp_path / "root", "u1", "s1")
    assert create_workspace(path) == path
    assert create_workspace(path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_delete_workspace_removes_everything_and_ignores_missing(tmp_path: Path) -> None:
    path = create_workspace(tmp_path / "u" / "s")
    (path / "a" / "b").mkdir(parents=True)
    (path / "a" / "b" / "f.txt").write_text("x")
    (path / "a" / "b").chmod(0o000)  # what `chmod 000` in a command leaves behind
    delete_workspace(path)
    assert not path.exists()
    delete_workspace(path)


def test_delete_workspace_does_not_follow_symlinks_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    path = create_workspace(tmp_path / "u" / "s")
    (path / "link").symlink_to(outside)
    delete_workspace(path)
    assert (outside / "keep.txt").read_text() == "keep"

    linked = tmp_path / "u" / "linked"
    linked.symlink_to(outside)
    delete_workspace(linked)
    assert not linked.exists()
    assert (outside / "keep.txt").exists()


def test_workspace_size_counts_regular_files_only(tmp_path: Path) -> None:
    outside = tmp_path / "big.bin"
    outside.write_bytes(b"x" * 10_000)
    path = create_workspace(tmp_path / "u" / "s")
    (path / "a.txt").write_bytes(b"12345")
    (path / "sub").mkdir()
    (path / "sub" / "b.txt").write_bytes(b"123")
    (path / "link").symlink_to(outside)
    assert workspace_size(path) == 8
    assert workspace_size(tmp_path / "missing") == 0


def test_resolve_inside_the_workspace(tmp_path: Path) -> None:
    base = tmp_path.resolve()
    assert resolve_in_workspace(tmp_path, "") == base
    assert resolve_in_workspace(tmp_path, ".") == base
    assert resolve_in_workspace(tmp_path, "notes/todo.md") == base / "notes" / "todo.md"
    assert resolve_in_workspace(tmp_path, "a/../b.txt") == base / "b.txt"
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert resolve_in_workspace(tmp_path, "alias/x") == base / "real" / "x"


def test_resolve_refuses_absolute_paths(tmp_path: Path) -> None:
    with pytest.raises(PathEscapeError, match="absolute paths are not allowed"):
        resolve_in_workspace(tmp_path, "/etc/passwd")


def test_resolve_refuses_dotdot_that_leaves(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for escape in ["..", "../ws2/x", "a/../../x", "./../../etc/passwd"]:
        with pytest.raises(PathEscapeError, match="outside the workspace"):
            resolve_in_workspace(workspace, escape)


def test_resolve_refuses_symlinks_that_point_outside(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "out").symlink_to(tmp_path)
    (workspace / "dangling").symlink_to(tmp_path / "not-yet")
    for escape in ["out", "out/secret.txt", "dangling"]:
        with pytest.raises(PathEscapeError, match="symbolic link"):
            resolve_in_workspace(workspace, escape)


def test_resolve_reports_bad_paths_as_value_errors(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(ValueError):
        resolve_in_workspace(tmp_path, "loop/x")
    with pytest.raises(ValueError):
        resolve_in_workspace(tmp_path, "a\x00b")
    assert issubclass(PathEscapeError, ValueError)
    assert not os.path.exists(tmp_path / "a")

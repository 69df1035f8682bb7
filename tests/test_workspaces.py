from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from compymac_rx.beneath import opened_root
from compymac_rx.workspaces import (
    QuotaExceeded,
    check_quota,
    create_workspace,
    delete_workspace,
    over_quota_after_command,
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


def test_workspace_size_counts_disk_blocks_without_following_links(tmp_path: Path) -> None:
    outside = tmp_path / "big.bin"
    outside.write_bytes(b"x" * 1_000_000)
    path = create_workspace(tmp_path / "u" / "s")
    (path / "a.bin").write_bytes(b"1" * 100_000)
    (path / "sub").mkdir()
    (path / "sub" / "b.bin").write_bytes(b"2" * 50_000)
    os.link(path / "a.bin", path / "sub" / "hard.bin")  # counted once
    (path / "link").symlink_to(outside)
    with (path / "sparse").open("wb") as sparse:
        sparse.truncate(10_000_000_000)  # 10 GB apparent, no blocks
    size = workspace_size(path)
    assert 150_000 <= size < 300_000
    assert workspace_size(tmp_path / "missing") == 0


def test_quota_counts_disk_use_and_refuses_writes_past_it(tmp_path: Path) -> None:
    path = create_workspace(tmp_path / "u" / "s")
    (path / "big.bin").write_bytes(os.urandom(600 * 1024))
    with opened_root(path) as root:
        check_quota(root, 1, adding=300 * 1024)
        with pytest.raises(QuotaExceeded) as refused:
            check_quota(root, 1, adding=500 * 1024)
        # Rewriting the big file is judged by the new size, not old + new.
        check_quota(root, 1, adding=900 * 1024, replacing="big.bin")
        assert over_quota_after_command(root, 1) is None
        (path / "more.bin").write_bytes(os.urandom(600 * 1024))
        after = over_quota_after_command(root, 1)
    message = str(refused.value)
    assert message.startswith("workspace quota exceeded: this write would bring the workspace to")
    assert "of its 1 MB quota (it uses 0.6 MB now)" in message
    assert after is not None
    assert "workspace quota exceeded: the workspace now uses 1.2 MB of its 1 MB quota" in after
    assert issubclass(QuotaExceeded, ValueError)

"""The file panel's operations: owner-checked, confined to the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compymac_rx.chats import service as chats
from compymac_rx.files import service as files
from tests.factories import make_user


@pytest.fixture
def owned(data_dir: Path) -> tuple[str, str, Path]:
    user = make_user()
    session = chats.create_session(user.id)
    return user.id, session.id, data_dir / "workspaces" / user.id / session.id


def test_tree_preview_and_download(owned: tuple[str, str, Path]) -> None:
    user_id, session_id, workspace = owned
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("print('hi')\n")
    (workspace / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (workspace / "blob.bin").write_bytes(b"\x00\x01")
    tree = [(e.path, e.is_dir, e.depth) for e in files.list_tree(user_id, session_id)]
    assert tree == [
        ("blob.bin", False, 0),
        ("logo.png", False, 0),
        ("src", True, 0),
        ("src/app.py", False, 1),
    ]
    text = files.preview(user_id, session_id, "src/app.py")
    assert (text.kind, text.language, text.text) == ("text", "python", "print('hi')\n")
    assert files.preview(user_id, session_id, "logo.png").kind == "image"
    assert files.preview(user_id, session_id, "blob.bin").kind == "binary"
    found = files.open_for_download(user_id, session_id, "src/app.py")
    try:
        assert (found.name, found.size) == ("app.py", 12)
        assert os.read(found.fd, 100) == b"print('hi')\n"
    finally:
        os.close(found.fd)


def test_everything_refuses_another_users_session(owned: tuple[str, str, Path]) -> None:
    owner, session_id, workspace = owned
    (workspace / "secret.txt").write_text("mine")
    stranger = make_user()
    for attempt in (
        lambda: files.list_tree(stranger.id, session_id),
        lambda: files.preview(stranger.id, session_id, "secret.txt"),
        lambda: files.open_for_download(stranger.id, session_id, "secret.txt"),
        lambda: files.save_upload(stranger.id, session_id, "x.txt", b"x"),
        lambda: files.delete_path(stranger.id, session_id, "secret.txt"),
    ):
        with pytest.raises(files.FileError, match="not yours"):
            attempt()
    assert (workspace / "secret.txt").read_text() == "mine"
    # The control: the owner's same calls reach the file and change the workspace.
    assert [e.path for e in files.list_tree(owner, session_id)] == ["secret.txt"]
    assert files.preview(owner, session_id, "secret.txt").text == "mine"
    files.delete_path(owner, session_id, "secret.txt")
    assert not (workspace / "secret.txt").exists()


def test_paths_cannot_leave_the_workspace(owned: tuple[str, str, Path], tmp_path: Path) -> None:
    user_id, session_id, workspace = owned
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    (workspace / "link").symlink_to(outside)
    (workspace / "inner").symlink_to("real")  # pointing inside: not followed either
    (workspace / "real").mkdir()
    (workspace / "real" / "f.txt").write_text("inside")
    os.mkfifo(workspace / "pipe")
    for path in ("../outside.txt", "/etc/passwd", "link", "inner/f.txt", "pipe", "real"):
        with pytest.raises(files.FileError):
            files.open_for_download(user_id, session_id, path)
        with pytest.raises(files.FileError):
            files.preview(user_id, session_id, path)
    with pytest.raises(files.FileError, match="symbolic link"):
        files.preview(user_id, session_id, "link")
    with pytest.raises(files.FileError):
        files.delete_path(user_id, session_id, "../outside.txt")
    files.delete_path(user_id, session_id, "link")  # the link goes, its target stays
    assert not (workspace / "link").exists() and outside.read_text() == "outside"
    with pytest.raises(files.FileError, match="workspace itself"):
        files.delete_path(user_id, session_id, ".")


def test_uploads_get_safe_names_and_a_size_limit(
    owned: tuple[str, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, session_id, workspace = owned
    assert files.save_upload(user_id, session_id, "../../etc/passwd", b"x") == "passwd"
    assert files.save_upload(user_id, session_id, "..\\evil?.sh", b"x") == "evil_.sh"
    assert files.save_upload(user_id, session_id, ".bashrc", b"x") == "bashrc"
    assert sorted(p.name for p in workspace.iterdir()) == ["bashrc", "evil_.sh", "passwd"]
    with pytest.raises(files.FileError, match="no usable"):
        files.save_upload(user_id, session_id, "...", b"x")
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "1000")
    from tests.conftest import clear_caches

    clear_caches()
    with pytest.raises(files.FileError, match="too big"):
        files.save_upload(user_id, session_id, "big.bin", b"x" * 1001)
    files.delete_path(user_id, session_id, "passwd")
    assert not (workspace / "passwd").exists()
    (workspace / "folder").mkdir()
    with pytest.raises(files.FileError, match="is a folder"):
        files.save_upload(user_id, session_id, "folder", b"x")
    (workspace / "link.txt").symlink_to(workspace.parent / "elsewhere.txt")
    with pytest.raises(files.FileError, match="symbolic link"):
        files.save_upload(user_id, session_id, "link.txt", b"x")
    assert not (workspace.parent / "elsewhere.txt").exists()


def test_uploads_stop_at_the_workspace_quota(
    owned: tuple[str, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import clear_caches

    monkeypatch.setenv("WORKSPACE_QUOTA_MB", "1")
    clear_caches()
    user_id, session_id, workspace = owned
    (workspace / "big.bin").write_bytes(os.urandom(700 * 1024))
    files.save_upload(user_id, session_id, "small.bin", b"x" * 100_000)
    with pytest.raises(files.FileError) as refused:
        files.save_upload(user_id, session_id, "more.bin", b"x" * 400_000)
    assert str(refused.value).startswith("workspace quota exceeded: this write would bring")
    assert "of its 1 MB quota" in str(refused.value)
    assert not (workspace / "more.bin").exists()
    files.delete_path(user_id, session_id, "big.bin")
    assert files.save_upload(user_id, session_id, "more.bin", b"x" * 400_000) == "more.bin"


def test_uploads_are_rate_limited_per_user(
    owned: tuple[str, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import clear_caches

    monkeypatch.setenv("UPLOADS_PER_MINUTE", "2")
    clear_caches()
    user_id, session_id, _ = owned
    files.save_upload(user_id, session_id, "a.txt", b"a")
    files.save_upload(user_id, session_id, "b.txt", b"b")
    with pytest.raises(files.FileError, match=r"Too many uploads\. Try again in \d+ s\."):
        files.save_upload(user_id, session_id, "c.txt", b"c")
    assert not (files.workspace_of(user_id, session_id) / "c.txt").exists()
    other = make_user()
    mine = chats.create_session(other.id)
    assert files.save_upload(other.id, mine.id, "c.txt", b"c") == "c.txt"

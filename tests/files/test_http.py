"""GET /files/...: the real route, streamed from a descriptor, owner only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx.chats import service as chats
from compymac_rx.files import service as files
from compymac_rx.files.http import file_routes
from compymac_rx.settings import get_settings
from tests.factories import signed_in_token


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=file_routes())) as client:
        yield client


def open_fds(under: Path) -> int:
    """Descriptors of this process open on something inside `under` (the database pool's
    sockets come and go on their own, so the whole table is no measure)."""
    inside = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # closed since the listing
            continue
        inside += target.startswith(f"{under.resolve()}/") or target == str(under.resolve())
    return inside


def test_download_streams_the_file_to_its_owner_only(client: TestClient, tmp_path: Path) -> None:
    user, token = signed_in_token()
    session = chats.create_session(user.id)
    workspace = files.workspace_of(user.id, session.id)
    big = os.urandom(3 * 256 * 1024 + 17)  # several chunks
    (workspace / "data.bin").write_bytes(big)
    (workspace / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (workspace / "naïve name.txt").write_text("x")
    (tmp_path / "secret.txt").write_text("outside")
    (workspace / "link.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(workspace / "pipe")
    cookie = {"cookie": f"{get_settings().session_cookie_name}={token}"}
    base = f"/files/{session.id}"
    with (workspace / "data.bin").open("rb"):
        assert open_fds(workspace) == 1  # the count sees a descriptor left open
    assert open_fds(workspace) == 0

    got = client.get(f"{base}/data.bin", headers=cookie)
    assert got.status_code == 200 and got.content == big
    assert got.headers["content-length"] == str(len(big))
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"] == 'attachment; filename="data.bin"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    image = client.get(f"{base}/logo.png?inline=1", headers=cookie)
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline")
    named = client.get(f"{base}/na%C3%AFve%20name.txt", headers=cookie)
    assert named.headers["content-disposition"] == (
        "attachment; filename*=utf-8''na%C3%AFve%20name.txt"
    )
    for path in ("link.txt", "pipe", "missing.txt", "..%2F..%2Fetc%2Fpasswd", "sub/", "%2E"):
        refused = client.get(f"{base}/{path}", headers=cookie)
        assert (refused.status_code, refused.text) == (404, "Not found."), path
    assert client.get(f"{base}/data.bin").status_code == 401
    _, stranger = signed_in_token()
    strange = {"cookie": f"{get_settings().session_cookie_name}={stranger}"}
    assert client.get(f"{base}/data.bin", headers=strange).status_code == 404
    assert open_fds(workspace) == 0  # every descriptor opened for a download was closed

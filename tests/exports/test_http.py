"""GET /export/...: the real routes, owner only, the zip streamed, the limit explained."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx.chats import service as chats
from compymac_rx.exports.http import export_routes
from compymac_rx.files import service as files
from compymac_rx.settings import get_settings
from tests.conftest import clear_caches
from tests.factories import signed_in_token, wait_for_job


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=export_routes())) as client:
        yield client


def cookie(token: str) -> dict[str, str]:
    return {"cookie": f"{get_settings().session_cookie_name}={token}"}


def test_session_exports_for_the_owner_only(client: TestClient) -> None:
    alice, alice_token = signed_in_token()
    _, bob_token = signed_in_token()
    session_id = chats.create_session(alice.id).id
    wait_for_job(alice.id, chats.send_message(alice.id, session_id, "run echo exported"))

    got = client.get(f"/export/sessions/{session_id}/json", headers=cookie(alice_token))
    assert got.status_code == 200 and got.json()["session"]["id"] == session_id
    assert got.headers["content-disposition"] == f'attachment; filename="session-{session_id}.json"'
    assert got.headers["x-content-type-options"] == "nosniff"
    md = client.get(f"/export/sessions/{session_id}/markdown", headers=cookie(alice_token))
    assert md.status_code == 200 and "run echo exported" in md.text
    assert md.headers["content-type"].startswith("text/markdown")

    for kind in ("json", "markdown"):
        url = f"/export/sessions/{session_id}/{kind}"
        assert client.get(url, headers=cookie(bob_token)).status_code == 404
        assert client.get(url).status_code == 401
    assert (
        client.get(f"/export/sessions/{session_id}/html", headers=cookie(alice_token)).status_code
        == 404
    )


def test_the_account_zip_streams_and_the_limit_is_explained(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, token = signed_in_token()
    session_id = chats.create_session(alice.id).id
    (files.workspace_of(alice.id, session_id) / "a.txt").write_text("in the zip")
    got = client.get("/export/account", headers=cookie(token))
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert "content-length" not in got.headers  # streamed
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    assert archive.read(f"workspaces/{session_id}/a.txt") == b"in the zip"
    assert client.get("/export/account").status_code == 401

    monkeypatch.setenv("EXPORT_MAX_MB", "1")
    clear_caches()
    (files.workspace_of(alice.id, session_id) / "big.bin").write_bytes(b"x" * 1_100_000)
    refused = client.get("/export/account", headers=cookie(token))
    assert refused.status_code == 413 and "the limit is 1 MB" in refused.text

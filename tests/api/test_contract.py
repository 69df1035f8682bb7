"""Every endpoint of the published OpenAPI document: other users' ids are 404, and missing,
expired, revoked or read-only (for writes) tokens are refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from compymac_rx.chats import service as chats
from compymac_rx.files import service as files
from compymac_rx.tokens import service as tokens
from tests.api import openapi
from tests.api.conftest import client, expire, make_token
from tests.factories import make_user, wait_for_job


@pytest.fixture
def alice_data(api_url: str) -> dict[str, str]:
    """Alice's session (finished turn, a file): every id an endpoint may take."""
    alice = make_user("alice@example.com")
    session_id = chats.create_session(alice.id).id
    job_id = chats.send_message(alice.id, session_id, "write notes.txt\nalice's secret")
    wait_for_job(alice.id, job_id)
    return {
        "user_id": alice.id,
        "session_id": session_id,
        "job_id": job_id,
        "path": "notes.txt",
    }


def document(api_url: str) -> dict[str, Any]:
    got = httpx.get(f"{api_url}/openapi.json")
    assert got.status_code == 200
    return dict(got.json())


def test_the_document_lists_the_issue_endpoints(api_url: str) -> None:
    paths = set(document(api_url)["paths"])
    assert {
        "/sessions",
        "/sessions/{session_id}",
        "/sessions/{session_id}/messages",
        "/sessions/{session_id}/stop",
        "/jobs/{job_id}",
        "/jobs/{job_id}/events",
        "/sessions/{session_id}/files",
        "/sessions/{session_id}/files/{path}",
        "/search",
        "/sessions/{session_id}/export",
        "/export",
        "/import",
    } <= paths


def test_every_id_taking_endpoint_is_404_for_another_user(
    api_url: str, alice_data: dict[str, str]
) -> None:
    bob = make_user("bob@example.com")
    tried = openapi.assert_other_user_gets_404(
        api_url, make_token(bob.id), document(api_url), alice_data
    )
    assert tried >= 10
    # Nothing of Alice's changed.
    alice_id, session_id = alice_data["user_id"], alice_data["session_id"]
    session = chats.get_session(alice_id, session_id)
    assert session is not None and not session.archived and session.title != "sample"
    assert [e.path for e in files.list_tree(alice_id, session_id)] == ["notes.txt"]
    assert len(chats.load_messages(alice_id, session_id)) == 3
    # Positive control: the same ids with the owner's token are answered.
    with client(api_url, make_token(alice_id)) as c:
        assert c.get(f"/sessions/{session_id}").status_code == 200
        assert c.get(f"/sessions/{session_id}/files/notes.txt").content == b"alice's secret"


def test_every_endpoint_refuses_bad_tokens(api_url: str, alice_data: dict[str, str]) -> None:
    alice_id = alice_data["user_id"]
    expired = make_token(alice_id)
    expire(expired)
    revoked = make_token(alice_id)
    [row] = [t for t in tokens.list_tokens(alice_id) if revoked.startswith(t.prefix)][:1]
    assert tokens.revoke_token(alice_id, row.id)
    openapi.assert_bad_tokens_refused(
        api_url,
        document(api_url),
        alice_data,
        refused=[None, expired, revoked, "cmx_forged", "Basic abc"],
        read_only=make_token(alice_id, "read"),
    )
    # A session cookie is no credential here.
    with httpx.Client(base_url=api_url, cookies={"compymac_session": "x"}) as c:
        assert c.get("/sessions").status_code == 401


def test_a_disabled_account_s_tokens_stop_working(api_url: str) -> None:
    from compymac_rx.accounts import service as accounts

    alice = make_user()
    secret = make_token(alice.id)
    with client(api_url, secret) as c:
        assert c.get("/sessions").status_code == 200
        accounts.set_user_flags(alice.id, is_active=False)
        assert c.get("/sessions").status_code == 401

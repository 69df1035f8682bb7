"""The OpenAPI-driven API checks against the running app (the same as tests/api, there run on
both databases): tokens made on the settings page, data made through the API itself."""

from __future__ import annotations

import sqlite3
import time

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.api import openapi
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, sign_up, unique_email


def create_token(page: Page, app: RunningApp, name: str, *, write: bool) -> str:
    page.goto(f"{app.url}/settings")
    page.get_by_label("Token name").fill(name)
    if write:
        page.get_by_label("Allow changes (write scope)").click()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").inner_text(timeout=TIMEOUT)
    expect(page.get_by_test_id("token-row").filter(has_text=name)).to_be_visible()
    return secret


def test_the_published_api_holds_its_contract(browser: Browser, app_server: RunningApp) -> None:
    base = f"{app_server.url}/api/v1"
    alice_context, bob_context = browser.new_context(), browser.new_context()
    alice, bob = alice_context.new_page(), bob_context.new_page()
    sign_up(alice, app_server, unique_email("contract-a"))
    sign_up(bob, app_server, unique_email("contract-b"))
    alice_token = create_token(alice, app_server, "main", write=True)
    read_only = create_token(alice, app_server, "reader", write=False)
    expiring = create_token(alice, app_server, "expiring", write=False)
    revoked = create_token(alice, app_server, "revoked", write=False)
    alice.get_by_role("button", name="Revoke revoked").click()
    expect(alice.get_by_test_id("token-row").filter(has_text="revoked").first).to_contain_text(
        "revoked", timeout=TIMEOUT
    )
    bob_token = create_token(bob, app_server, "bob", write=True)
    # Expiry is at least 7 days in the UI: age this one behind the app's back.
    with sqlite3.connect(app_server.data_dir / "compymac.db") as db:
        db.execute(
            "UPDATE access_tokens SET expires_at = '2000-01-01 00:00:00.000000' WHERE name = ?",
            ("expiring",),
        )

    headers = {"Authorization": f"Bearer {alice_token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
        session_id = api.post("/sessions").json()["id"]
        sent = api.post(f"/sessions/{session_id}/messages", json={"text": "write notes.txt\nx"})
        job_id = sent.json()["job"]["id"]
        deadline = time.monotonic() + 30
        while api.get(f"/jobs/{job_id}").json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    values = {"session_id": session_id, "job_id": job_id, "path": "notes.txt"}
    document = httpx.get(f"{base}/openapi.json").json()

    assert openapi.assert_other_user_gets_404(base, bob_token, document, values) >= 10
    openapi.assert_bad_tokens_refused(
        base,
        document,
        values,
        refused=[None, expiring, revoked, "cmx_forged"],
        read_only=read_only,
    )
    alice_context.close()
    bob_context.close()

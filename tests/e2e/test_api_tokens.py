"""API tokens in the real app: created on Settings, used with httpx, revoked; the docs page."""

from __future__ import annotations

import json

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, sign_up, unique_email


def test_create_use_and_revoke_a_token(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("tokens"))
    page.goto(f"{app_server.url}/settings")
    page.get_by_label("Token name").fill("script")
    page.get_by_label("Allow changes (write scope)").click()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").inner_text(timeout=TIMEOUT)
    assert secret.startswith("cmx_")
    row = page.get_by_test_id("token-row")
    expect(row).to_contain_text("read, write")
    expect(row).to_contain_text("never")

    api = httpx.Client(
        base_url=f"{app_server.url}/api/v1",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    session = api.post("/sessions").json()
    job = api.post(f"/sessions/{session['id']}/messages", json={"text": "run echo via api"})
    assert job.status_code == 202
    # The events stream through the app's middleware as they come, to the final status.
    with api.stream("GET", f"/jobs/{job.json()['job']['id']}/events") as stream:
        data = [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]
    assert data[-1]["status"] == "done"
    page.goto(f"{app_server.url}/s/{session['id']}")
    expect(page.get_by_text("run echo via api").first).to_be_visible(timeout=TIMEOUT)

    page.goto(f"{app_server.url}/settings")
    expect(page.get_by_test_id("new-token")).to_have_count(0)  # shown once only
    expect(row).not_to_contain_text("never", timeout=TIMEOUT)  # last use recorded
    page.get_by_role("button", name="Revoke script").click()
    expect(row).to_contain_text("revoked", timeout=TIMEOUT)
    refused = api.get("/sessions")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    # The session cookie of the signed-in browser is no credential for the API.
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert httpx.get(f"{app_server.url}/api/v1/sessions", cookies=cookies).status_code == 401
    context.close()


def test_the_docs_page_runs_under_the_csp(browser: Browser, app_server: RunningApp) -> None:
    spec = httpx.get(f"{app_server.url}/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "CompyMac RX API" and "/sessions" in spec["paths"]
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{app_server.url}/api/v1/docs")
    expect(page.get_by_text("CompyMac RX API").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".opblock").first).to_be_visible(timeout=TIMEOUT)
    assert not [p for p in problems if "Content Security Policy" in p], problems
    context.close()

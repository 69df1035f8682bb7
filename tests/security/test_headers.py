"""Security headers on every response of the production app, and a CSP the build runs under
with no violation in the browser."""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from compymac_rx.http.security_headers import (
    SecurityHeaders,
    content_security_policy,
    inline_script_hashes,
)
from compymac_rx.settings import load_settings
from compymac_rx.state.files import UPLOAD_ID
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, new_session, send_and_wait, sign_up, unique_email

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
CSP_MUST = [
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
]


def _csp_parts(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


# --- unit: the policy ---


def test_inline_scripts_of_the_build_are_hashed(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.html").write_text("<script>one()</script><script src='/x.js'></script>")
    (tmp_path / "nested" / "b.html").write_text("<p>x</p><script type=module>two &amp; 3</script>")
    expected = sorted(
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
        for text in ("one()", "two &amp; 3")
    )
    assert inline_script_hashes(tmp_path) == expected
    assert inline_script_hashes(tmp_path / "missing") == []


def test_policy_for_https_and_an_oidc_issuer() -> None:
    settings = load_settings(
        public_url="https://app.example",
        identity_provider="oidc",
        oidc_issuer="https://id.example/realms/x",
        oidc_client_id="c",
        oidc_client_secret="s",
    )
    parts = _csp_parts(content_security_policy(settings, ["'sha256-abc'"]))
    assert parts["script-src"] == ["'self'", "'sha256-abc'"]
    assert (
        "'unsafe-inline'" not in parts["script-src"] and "'unsafe-eval'" not in parts["script-src"]
    )
    assert parts["connect-src"] == ["'self'", "https://app.example", "wss://app.example"]
    assert parts["form-action"] == ["'self'", "https://id.example"]


def test_middleware_adds_hsts_under_https_and_keeps_a_routes_own_csp() -> None:
    async def own(_request: object) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Content-Security-Policy": "sandbox"})

    async def plain(_request: object) -> PlainTextResponse:
        return PlainTextResponse("x")

    inner = Starlette(routes=[Route("/own", own), Route("/plain", plain)])
    https = SecurityHeaders(
        inner, settings=load_settings(public_url="https://app.example"), static_dir=None
    )
    # Sync clients: this module also drives sync Playwright, whose loop owns the main thread.
    with TestClient(https, base_url="https://app.example") as client:
        plain_response = client.get("/plain")
        own_response = client.get("/own")
    assert plain_response.headers["strict-transport-security"] == "max-age=31536000"
    assert "frame-ancestors 'none'" in plain_response.headers["content-security-policy"]
    assert own_response.headers["content-security-policy"] == "sandbox"
    assert own_response.headers["x-frame-options"] == "DENY"

    http_only = SecurityHeaders(
        inner, settings=load_settings(public_url="http://localhost:3000"), static_dir=None
    )
    with TestClient(http_only, base_url="http://localhost:3000") as client:
        response = client.get("/plain")
    assert "strict-transport-security" not in response.headers


# --- the running app, raw HTTP ---


def _fetch(app: RunningApp, method: str, path: str) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(app.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=15)
    connection.request(method, path, headers={"Origin": app.url})
    response = connection.getresponse()
    body = response.read().decode("utf-8", errors="replace")
    headers = {k.lower(): v for k, v in response.getheaders()}
    connection.close()
    return response.status, headers, body


def test_every_kind_of_response_carries_the_headers(app_server: RunningApp) -> None:
    status, _, signin_html = _fetch(app_server, "GET", "/signin/")
    assert status == 200
    asset = re.search(r'href="(/assets/[^"]+\.js)"', signin_html)
    assert asset is not None
    targets = [
        ("GET", "/signin/", 200),  # prerendered pages
        ("GET", "/signup/", 200),
        ("GET", "/settings/", 200),
        ("GET", "/s/0123456789abcdef0123456789abcdef", 200),  # SPA fallback page
        ("GET", asset.group(1), 200),  # built static assets
        ("GET", "/app.css", 200),
        ("GET", "/load_older.js", 200),
        ("GET", "/health", 200),  # our routes
        ("GET", "/files/x/y.txt", 401),
        ("POST", "/auth/logout", 303),
        ("POST", "/_upload", 401),  # Reflex's routes
        ("GET", "/ping", 200),
        ("GET", "/no/such/page", 404),
    ]
    for method, path, expected_status in targets:
        status, headers, body = _fetch(app_server, method, path)
        assert status == expected_status, (path, status)
        for name, value in EXPECTED.items():
            assert headers.get(name) == value, (path, name, headers.get(name))
        assert "strict-transport-security" not in headers  # PUBLIC_URL is http here
        csp = headers["content-security-policy"]
        if path.startswith("/files/"):
            continue  # the download route's own, stricter policy
        for directive in CSP_MUST:
            assert directive in csp, (path, directive)
        parts = _csp_parts(csp)
        assert "'unsafe-inline'" not in parts["script-src"]
        assert "'unsafe-eval'" not in parts["script-src"]
        ws_origin = app_server.url.replace("http", "ws", 1)
        assert ws_origin in parts["connect-src"]
        if "text/html" in headers.get("content-type", ""):
            # Every inline script the page carries is allowed by its hash.
            for text in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", body, re.S):
                digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
                assert f"'sha256-{digest}'" in parts["script-src"], (path, text[:80])


# --- the browser: no violation anywhere ---

WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def _violations(page: Page, console: list[str]) -> list[str]:
    from_events = page.evaluate("window.__csp || []")
    return [*from_events, *(m for m in console if "Content Security Policy" in m)]


def test_the_app_runs_under_the_csp_with_no_violation(
    browser: Browser, app_server: RunningApp, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("console", record)
    seen: list[str] = []

    def check(step: str) -> None:
        page.wait_for_timeout(300)
        seen.extend(f"{step}: {v}" for v in _violations(page, console))
        console.clear()

    sign_up(page, app_server, unique_email("csp"))
    check("sign-up")
    new_session(page)
    check("new session")
    send_and_wait(page, "run echo hello")
    expect(page.get_by_test_id("tool-card")).to_have_count(1, timeout=TIMEOUT)
    page.get_by_test_id("tool-card").locator("summary").click()
    check("turn with a tool card")
    page.get_by_role("button", name="Show the workspace files").click()
    upload = tmp_path / "notes.md"
    upload.write_text("# Notes\n\n- one\n")
    image = tmp_path / "dot.png"
    image.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
    )
    page.locator(f"#{UPLOAD_ID} input[type=file]").set_input_files([str(upload), str(image)])
    page.get_by_role("button", name="Upload the chosen files").click()
    expect(page.get_by_test_id("file-notice")).to_contain_text("Uploaded", timeout=TIMEOUT)
    page.get_by_label("Preview notes.md").click()
    expect(page.get_by_test_id("file-preview")).to_contain_text("# Notes", timeout=TIMEOUT)
    page.get_by_label("Preview dot.png").click()
    expect(page.get_by_test_id("file-preview").locator("img")).to_be_visible(timeout=TIMEOUT)
    check("file panel")
    page.goto(f"{app_server.url}/settings")
    expect(page.get_by_label("API key")).to_be_visible(timeout=TIMEOUT)
    check("settings")
    page.goto(f"{app_server.url}/signin")
    check("sign-in page")
    # "script-src eval" means a handler returned JavaScript for the page to eval (e.g.
    # `return rx.clear_selected_files(...)`): trigger it from the component's event chain.
    assert seen == [], seen
    context.close()


@pytest.mark.parametrize("path", ["/signin", "/signup"])
def test_pages_cannot_be_framed(browser: Browser, app_server: RunningApp, path: str) -> None:
    """frame-ancestors 'none': a page that frames the app gets an empty frame."""
    page = browser.new_page()  # about:blank: a host page with no policy of its own
    page.set_content(f'<iframe id="f" src="{app_server.url}{path}"></iframe>')
    page.wait_for_timeout(1500)
    frame = page.frame_locator("#f")
    expect(frame.get_by_label("Email")).to_have_count(0)
    page.close()

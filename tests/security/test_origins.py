"""Origins: CORS and the `/_event` WebSocket answer only PUBLIC_URL (and ALLOWED_ORIGINS);
under https the session cookie is `__Host-` prefixed, and setting and reading agree."""

from __future__ import annotations

import http.client
import uuid
from urllib.parse import urlsplit

import pytest
import simple_websocket
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import routes
from compymac_rx.accounts import service as accounts
from compymac_rx.http.origins import allowed_origins, origin_allowed, origin_of
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes, session_cookie_name, token_from_cookie_header
from compymac_rx.settings import load_settings
from tests.conftest import clear_caches
from tests.e2e.conftest import RunningApp
from tests.factories import PASSWORD
from tests.security.raw import sign_up_cookie

EVIL = "https://evil.example"


def _get(app_url: str, method: str, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    parts = urlsplit(app_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=15)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


# --- settings ---


def test_allowed_origins_are_public_url_plus_the_list() -> None:
    settings = load_settings(
        public_url="https://App.Example:443",
        allowed_origins="http://localhost:3000, https://admin.example",
    )
    assert allowed_origins(settings) == [
        "https://app.example",
        "http://localhost:3000",
        "https://admin.example",
    ]
    assert origin_allowed("https://app.example", allowed_origins(settings))
    for foreign in (None, "null", EVIL, "https://app.example.evil.example", "http://app.example"):
        assert not origin_allowed(foreign, allowed_origins(settings))
    assert origin_of("https://sub.app.example:8443/x") == "https://sub.app.example:8443"


def test_a_malformed_allowed_origin_stops_the_start() -> None:
    with pytest.raises(SystemExit, match="ALLOWED_ORIGINS"):
        load_settings(allowed_origins="*")


# --- CORS on the running app ---


def test_a_foreign_origin_is_not_reflected(app_server: RunningApp) -> None:
    for method, path in [("GET", "/health"), ("GET", "/signin/"), ("GET", "/ping")]:
        response = _get(app_server.url, method, path, {"Origin": EVIL})
        assert response.getheader("access-control-allow-origin") is None, path
    preflight = _get(
        app_server.url,
        "OPTIONS",
        "/_upload",
        {"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.getheader("access-control-allow-origin") is None
    assert preflight.status >= 400
    # Positive control: the same preflight from our own origin is answered.
    ours = {"Origin": app_server.url, "Access-Control-Request-Method": "POST"}
    ours_answer = _get(app_server.url, "OPTIONS", "/_upload", ours)
    assert ours_answer.getheader("access-control-allow-origin") == app_server.url


def test_our_own_origin_is_allowed_positive_control(app_server: RunningApp) -> None:
    preflight = _get(
        app_server.url,
        "OPTIONS",
        "/_upload",
        {"Origin": app_server.url, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 200
    assert preflight.getheader("access-control-allow-origin") == app_server.url


# --- the /_event WebSocket ---


def _event_url(app: RunningApp) -> str:
    return app.url.replace("http", "ws", 1) + f"/_event/?EIO=4&transport=websocket&t={uuid.uuid4()}"


def _open(app: RunningApp, headers: dict[str, str]) -> str:
    """The first frame of a socket.io session (`0{...}` when the server accepted it)."""
    ws = simple_websocket.Client.connect(_event_url(app), headers=headers)
    try:
        return str(ws.receive(timeout=30))
    finally:
        ws.close()


def test_event_socket_with_a_foreign_origin_is_refused_even_with_a_cookie(
    app_server: RunningApp,
) -> None:
    cookie = sign_up_cookie(app_server.url, "ws-origin-1@example.com")
    for origin in (EVIL, "http://localhost:1", "null"):
        with pytest.raises(simple_websocket.ConnectionError) as refused:
            _open(app_server, {"Cookie": cookie, "Origin": origin})
        assert refused.value.status_code == 403, origin
    # Positive control: the same cookie from our own origin opens the socket.
    assert _open(app_server, {"Cookie": cookie, "Origin": app_server.url}).startswith("0{")


def test_event_socket_without_an_origin_is_refused(app_server: RunningApp) -> None:
    cookie = sign_up_cookie(app_server.url, "ws-origin-2@example.com")
    with pytest.raises(simple_websocket.ConnectionError) as refused:
        _open(app_server, {"Cookie": cookie})
    assert refused.value.status_code == 403
    assert _open(app_server, {"Cookie": cookie, "Origin": app_server.url}).startswith("0{")


def test_event_socket_with_our_origin_opens_positive_control(app_server: RunningApp) -> None:
    cookie = sign_up_cookie(app_server.url, "ws-origin-3@example.com")
    assert _open(app_server, {"Cookie": cookie, "Origin": app_server.url}).startswith("0{")


# --- the session cookie under https ---


@pytest.fixture
def https_app(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("PUBLIC_URL", "https://app.example")
    clear_caches()
    app = Starlette(routes=auth_routes(get_identity_provider()))
    return TestClient(app, base_url="https://app.example", follow_redirects=False)


def test_under_https_the_session_cookie_is_host_prefixed(https_app: TestClient) -> None:
    assert session_cookie_name() == "__Host-compymac_session"
    response = https_app.post(
        routes.AUTH_SIGNUP,
        data={"email": "host@example.com", "password": PASSWORD},
        headers={"Origin": "https://app.example"},
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    pair, _, attributes = cookie.partition(";")
    assert pair.startswith("__Host-compymac_session=")
    flags = [a.strip().lower() for a in attributes.split(";")]
    # What a browser demands of a __Host- cookie: Secure, Path=/, no Domain.
    assert "secure" in flags and "path=/" in flags and "httponly" in flags
    assert not any(flag.startswith("domain") for flag in flags)
    # Reading uses the same name: the token resolves; the unprefixed name is not read.
    token = token_from_cookie_header(pair)
    assert token and accounts.resolve_user(token) is not None
    assert token_from_cookie_header(f"compymac_session={token}") is None
    # Sign-out clears the prefixed cookie.
    https_app.cookies.set("__Host-compymac_session", token, domain="app.example")
    logout = https_app.post(routes.AUTH_LOGOUT, headers={"Origin": "https://app.example"})
    cleared = logout.headers["set-cookie"]
    assert cleared.startswith('__Host-compymac_session=""') and "Max-Age=0" in cleared
    assert accounts.resolve_user(token) is None


def test_under_http_the_cookie_keeps_its_plain_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "http://localhost:3000")
    clear_caches()
    assert session_cookie_name() == "compymac_session"

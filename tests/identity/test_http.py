"""The auth HTTP routes, through a real Starlette app (no browser)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import routes
from compymac_rx.accounts import service as accounts
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes, token_from_cookie_header
from tests.factories import PASSWORD, make_user, session_cookies_set

ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def client() -> TestClient:
    app = Starlette(routes=auth_routes(get_identity_provider()))
    return TestClient(app, follow_redirects=False)


def test_sign_up_sets_an_httponly_lax_cookie_and_goes_to_next(client: TestClient) -> None:
    response = client.post(
        routes.AUTH_SIGNUP,
        data={"email": "new@example.com", "password": PASSWORD, "next": "/s/abc123"},
        headers=ORIGIN,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/s/abc123"
    cookie = response.headers["set-cookie"]
    assert "compymac_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in tests
    token = token_from_cookie_header(cookie.split(";")[0])
    assert accounts.resolve_user(token) is not None


def test_bad_credentials_go_back_to_sign_in_with_a_generic_error(client: TestClient) -> None:
    make_user("who@example.com")
    response = client.post(
        routes.AUTH_LOGIN,
        data={"email": "who@example.com", "password": "wrong password", "next": "/s/x1"},
        headers=ORIGIN,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fs%2Fx1&error=invalid"
    assert session_cookies_set(response) == []
    # What is set is only the typed email, for the form to show again.
    assert "who@example.com" in response.headers["set-cookie"]
    # Positive control: the right password through the same route sets the cookie.
    good = {"email": "who@example.com", "password": PASSWORD}
    assert "set-cookie" in client.post(routes.AUTH_LOGIN, data=good, headers=ORIGIN).headers


def test_a_throttled_sign_in_says_how_long_to_wait(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")
    from tests.conftest import clear_caches

    clear_caches()
    make_user("slow@example.com")
    bad = {"email": "slow@example.com", "password": "nope nope nope"}
    client.post(routes.AUTH_LOGIN, data=bad, headers=ORIGIN)
    response = client.post(routes.AUTH_LOGIN, data=bad, headers=ORIGIN)
    assert "error=throttled" in response.headers["location"]
    assert "wait=" in response.headers["location"]


def test_cross_site_posts_are_refused(client: TestClient) -> None:
    make_user("csrf@example.com")
    response = client.post(
        routes.AUTH_LOGIN,
        data={"email": "csrf@example.com", "password": PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert "error=origin" in response.headers["location"]
    assert "set-cookie" not in response.headers
    # Positive control: the same post from our own origin signs in.
    good = {"email": "csrf@example.com", "password": PASSWORD}
    assert "set-cookie" in client.post(routes.AUTH_LOGIN, data=good, headers=ORIGIN).headers


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil", ""])
def test_next_never_leaves_the_site(client: TestClient, target: str) -> None:
    response = client.post(
        routes.AUTH_SIGNUP,
        data={"email": f"n{abs(hash(target))}@example.com", "password": PASSWORD, "next": target},
        headers=ORIGIN,
    )
    assert response.headers["location"] == "/"


def test_logout_revokes_the_session_and_clears_the_cookie(client: TestClient) -> None:
    make_user("out@example.com")
    signed_in = client.post(
        routes.AUTH_LOGIN,
        data={"email": "out@example.com", "password": PASSWORD},
        headers=ORIGIN,
    )
    token = token_from_cookie_header(signed_in.headers["set-cookie"].split(";")[0])
    assert accounts.resolve_user(token) is not None
    response = client.post(routes.AUTH_LOGOUT, headers=ORIGIN)
    assert response.headers["location"] == routes.SIGNIN
    assert 'compymac_session=""' in response.headers["set-cookie"]
    assert accounts.resolve_user(token) is None


def test_health_is_open(client: TestClient) -> None:
    assert client.get(routes.HEALTH).json() == {"status": "ok"}

"""The smaller hardening items of issue 9 (item 8), on SQLite and PostgreSQL: the client IP
behind proxies, /auth/start throttled, back-channel logout replay, key rotation covering the
issuer's tokens, a clean sign-out when they can no longer be decrypted, and return paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import crypto, ratelimit, routes
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import AuthSession, OidcFlow
from compymac_rx.db import session_scope
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes
from compymac_rx.identity.issuer import BACKCHANNEL_EVENT
from compymac_rx.ops import rotate
from tests.conftest import clear_caches
from tests.factories import PASSWORD
from tests.identity import test_oidc as flow
from tests.identity.oidc_issuer import CLIENT_ID, FakeIssuerState, fake_issuer

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
ORIGIN = {"origin": "http://testserver"}
USER = {"realm_access": {"roles": ["user"]}}


def restart(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    """New settings, as a restarted process would read them."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_caches()


# --- return paths ---


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/s/x\x00",
        "/s/x\x7f",
        "/s/\u202eevil",  # a bidi override disguising the path
        "/s/\u2028x",
    ],
)
def test_return_paths_with_control_characters_go_home(target: str) -> None:
    assert routes.safe_next(target) == routes.HOME
    assert "next=" not in routes.signin_url(next_path=target)
    assert "next=" in routes.signin_url(next_path="/s/x")  # positive control: a clean path stays


def test_ordinary_return_paths_stay() -> None:
    assert routes.safe_next("/s/abc123?tab=files") == "/s/abc123?tab=files"


# --- the client IP behind reverse proxies ---


@pytest.mark.parametrize(
    "hops, forwarded, expected",
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy: the header is the client's own words
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the left entry was spoofed
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.5", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # fewer entries than proxies
        (1, "not-an-address", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(
    monkeypatch: pytest.MonkeyPatch, hops: int, forwarded: str, expected: str
) -> None:
    restart(monkeypatch, TRUSTED_PROXY_HOPS=str(hops))
    assert ratelimit.client_address("10.0.0.2", forwarded or None) == expected


def local_client() -> TestClient:
    return TestClient(Starlette(routes=auth_routes(get_identity_provider())))


def test_the_session_record_and_limits_use_the_forwarded_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    restart(monkeypatch, TRUSTED_PROXY_HOPS="1", SIGNUPS_PER_HOUR_PER_IP="1")
    client = local_client()

    def sign_up(email: str, forwarded: str) -> str:
        response = client.post(
            routes.AUTH_SIGNUP,
            data={"email": email, "password": PASSWORD},
            headers={**ORIGIN, "x-forwarded-for": forwarded},
            follow_redirects=False,
        )
        return str(response.headers["location"])

    # Two people behind the same proxy (one peer address) each get their own limit.
    assert sign_up("a@example.com", "spoof, 203.0.113.1") == "/"
    assert sign_up("b@example.com", "203.0.113.2") == "/"
    assert sign_up("c@example.com", "203.0.113.2").startswith("/signup?error=throttled")
    with session_scope() as db:
        ips = sorted(row.ip for row in db.exec(select(AuthSession)))
    assert ips == ["203.0.113.1", "203.0.113.2"]


def test_without_trusted_proxies_a_forged_header_does_not_dodge_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    restart(monkeypatch, SIGNUPS_PER_HOUR_PER_IP="1")
    client = local_client()
    answers = [
        client.post(
            routes.AUTH_SIGNUP,
            data={"email": f"f{i}@example.com", "password": PASSWORD},
            headers={**ORIGIN, "x-forwarded-for": f"203.0.113.{i}"},
            follow_redirects=False,
        ).headers["location"]
        for i in range(2)
    ]
    assert answers[0] == "/" and answers[1].startswith("/signup?error=throttled")


# --- OIDC: /auth/start, back-channel logout, keys ---


@pytest.fixture
def idp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIssuerState]:
    with fake_issuer() as state:
        restart(
            monkeypatch,
            IDENTITY_PROVIDER="keycloak",
            OIDC_ISSUER=state.url,
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET="test-secret",
            PUBLIC_URL="http://testserver",
        )
        yield state


@pytest.fixture
def client(idp: FakeIssuerState) -> TestClient:
    return TestClient(
        Starlette(routes=auth_routes(get_identity_provider())), follow_redirects=False
    )


def test_auth_start_is_throttled_per_ip(
    idp: FakeIssuerState, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    restart(monkeypatch, AUTH_STARTS_PER_MINUTE_PER_IP="3")
    client = TestClient(
        Starlette(routes=auth_routes(get_identity_provider())), follow_redirects=False
    )
    locations = [client.get(routes.AUTH_START).headers["location"] for _ in range(5)]
    assert all(loc.startswith(idp.url) for loc in locations[:3])
    assert all(loc.startswith("/signin?error=throttled&wait=") for loc in locations[3:])
    with session_scope() as db:
        assert len(db.exec(select(OidcFlow)).all()) == 3  # no row for a refused start


def logout_token(idp: FakeIssuerState, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.url,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 60,
        "jti": "logout-1",
        "sid": "kc-session-1",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    claims.update(overrides)
    return idp.sign({k: v for k, v in claims.items() if v is not None})


def test_a_replayed_logout_token_is_refused(idp: FakeIssuerState, client: TestClient) -> None:
    def post(raw: str) -> int:
        response = client.post(routes.AUTH_BACKCHANNEL_LOGOUT, data={"logout_token": raw})
        return response.status_code

    _, token = flow.sign_in(client, idp, **USER)
    raw = logout_token(idp)
    assert post(raw) == 200
    assert get_identity_provider().current_user(token) is None
    # The same token again, after the person signed in anew: refused, the new session lives.
    _, again = flow.sign_in(client, idp, **USER)
    assert post(raw) == 400
    assert get_identity_provider().current_user(again) is not None
    # A new jti is a new logout.
    assert post(logout_token(idp, jti="logout-2")) == 200
    assert get_identity_provider().current_user(again) is None


def test_a_stale_logout_token_without_exp_is_refused(
    idp: FakeIssuerState, client: TestClient
) -> None:
    _, token = flow.sign_in(client, idp, **USER)
    stale = logout_token(idp, exp=None, iat=int(time.time()) - 3600)
    response = client.post(routes.AUTH_BACKCHANNEL_LOGOUT, data={"logout_token": stale})
    assert response.status_code == 400
    assert get_identity_provider().current_user(token) is not None


def sealed_records() -> list[str]:
    with session_scope() as db:
        rows = db.exec(select(AuthSession)).all()
        return [r for row in rows for r in (row.refresh_token_enc, row.id_token_enc) if r]


def test_rotation_re_encrypts_the_issuer_tokens(
    idp: FakeIssuerState, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = crypto.new_key_spec("old1"), crypto.new_key_spec("new2")
    restart(monkeypatch, SECRET_KEYS=old)
    _, token = flow.sign_in(client, idp, **USER)
    flow.start(client)  # a sign-in in flight: its code verifier is sealed too
    assert sealed_records() and all(r.startswith("v1.old1.") for r in sealed_records())
    restart(monkeypatch, SECRET_KEYS=f"{new},{old}")
    rotate.main()
    assert all(r.startswith("v1.new2.") for r in sealed_records())
    with session_scope() as db:
        assert all(f.code_verifier_enc.startswith("v1.new2.") for f in db.exec(select(OidcFlow)))
    # The old key goes; the session refreshes with its re-encrypted refresh token.
    restart(monkeypatch, SECRET_KEYS=new)
    flow._expire_access(token)
    flow.answer(idp, nonce=None, **USER)
    assert get_identity_provider().current_user(token) is not None


def test_tokens_no_key_opens_end_the_session_cleanly(
    idp: FakeIssuerState, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    restart(monkeypatch, SECRET_KEYS=crypto.new_key_spec("old1"))
    _, token = flow.sign_in(client, idp, **USER)
    _, other = flow.sign_in(client, idp, **USER)
    restart(monkeypatch, SECRET_KEYS=crypto.new_key_spec("new2"))  # old key dropped early
    flow._expire_access(token)
    assert get_identity_provider().current_user(token) is None  # signed out, no error
    with session_scope() as db:
        revoked = [row.revoked_at is not None for row in db.exec(select(AuthSession))]
    assert sorted(revoked) == [False, True]
    # Signing out with an undecryptable ID token: back to sign-in, no trip to the issuer.
    assert other is not None
    client.cookies.set("compymac_session", other)
    response = client.post(routes.AUTH_LOGOUT, headers=ORIGIN)
    assert response.status_code == 303 and response.headers["location"] == routes.SIGNIN
    assert get_identity_provider().current_user(other) is None
    # The rotation command ends what it cannot carry over, and says so.
    _, third = flow.sign_in(client, idp, **USER)
    assert accounts.resolve_session(third) is not None  # positive control: live before rotation
    restart(monkeypatch, SECRET_KEYS=crypto.new_key_spec("new3"))
    rotate.main()
    assert accounts.resolve_session(third) is None

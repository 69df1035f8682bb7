"""The oidc and keycloak providers' HTTP routes against a small real issuer (no browser)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import routes
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import AuthSession
from compymac_rx.db import session_scope, utcnow
from compymac_rx.identity.cache import get_user_cache
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes, token_from_cookie_header
from compymac_rx.identity.issuer import BACKCHANNEL_EVENT
from compymac_rx.identity.oidc import FLOW_COOKIE
from compymac_rx.offload import off_loop
from tests.conftest import clear_caches
from tests.factories import make_user
from tests.identity.oidc_issuer import CLIENT_ID, FakeIssuerState, fake_issuer

ORIGIN = {"origin": "http://testserver"}
ADMIN_CLAIMS = {"realm_access": {"roles": ["user", "admin"]}}
USER_CLAIMS = {"realm_access": {"roles": ["user"]}}


@pytest.fixture(params=["keycloak"])
def idp(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[FakeIssuerState]:
    with fake_issuer() as state:
        monkeypatch.setenv("IDENTITY_PROVIDER", request.param)
        monkeypatch.setenv("OIDC_ISSUER", state.url)
        monkeypatch.setenv("OIDC_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("OIDC_CLIENT_SECRET", "test-secret")
        monkeypatch.setenv("PUBLIC_URL", "http://testserver")
        clear_caches()
        yield state


@pytest.fixture
def client(idp: FakeIssuerState) -> TestClient:
    return TestClient(
        Starlette(routes=auth_routes(get_identity_provider())), follow_redirects=False
    )


def start(client: TestClient) -> dict[str, str]:
    """GET /auth/start: the query the browser takes to the issuer."""
    response = client.get(routes.AUTH_START, params={"next": "/s/abc"})
    assert response.status_code == 303
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    assert response.cookies.get(FLOW_COOKIE) == query["state"]
    return query


def answer(idp: FakeIssuerState, expires_in: int = 300, **claims: object) -> None:
    idp.token_answer = {
        "access_token": "opaque-access",
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": "refresh-1",
        "id_token": idp.sign(idp.id_claims(**claims)),
    }


def callback(client: TestClient, query: dict[str, str]) -> tuple[str, str | None]:
    response = client.get(routes.AUTH_CALLBACK, params={"state": query["state"], "code": "c1"})
    assert response.status_code == 303
    token = token_from_cookie_header(response.headers.get("set-cookie"))
    return response.headers["location"], token


def sign_in(client: TestClient, idp: FakeIssuerState, **claims: object) -> tuple[str, str | None]:
    """The whole code flow: start, the issuer answers with `claims`, the callback lands."""
    query = start(client)
    answer(idp, nonce=query["nonce"], **claims)
    return callback(client, query)


def test_code_flow_with_pkce_signs_in_and_keeps_tokens_encrypted(
    client: TestClient, idp: FakeIssuerState, data_dir: Path
) -> None:
    query = start(client)
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["client_id"] == CLIENT_ID and "openid" in query["scope"]
    answer(idp, nonce=query["nonce"], **ADMIN_CLAIMS)
    location, token = callback(client, query)
    assert location == "/s/abc"
    user = get_identity_provider().current_user(token)
    assert user is not None and user.email == "person@example.com" and user.is_admin
    with session_scope() as db:
        row = db.exec(select(AuthSession.refresh_token_enc, AuthSession.id_token_enc)).one()
    assert row[0] is not None and row[1] is not None
    assert row[0].startswith("v1.") and "refresh-1" not in row[0]
    assert row[1].startswith("v1.") and idp.token_answer["id_token"] not in row[1]


def test_a_replayed_state_is_refused(client: TestClient, idp: FakeIssuerState) -> None:
    query = start(client)
    answer(idp, nonce=query["nonce"], **USER_CLAIMS)
    assert callback(client, query)[1] is not None
    client.cookies.set(FLOW_COOKIE, query["state"], path=routes.AUTH_CALLBACK)
    location, token = callback(client, query)
    assert token is None and "error=state" in location


def test_a_state_not_bound_to_this_browser_is_refused(
    client: TestClient, idp: FakeIssuerState
) -> None:
    query = start(client)
    client.cookies.clear()  # the victim's browser never started this sign-in
    answer(idp, nonce=query["nonce"], **USER_CLAIMS)
    location, token = callback(client, query)
    assert token is None and "error=state" in location
    # Positive control: the same flow started in this browser signs in.
    assert sign_in(client, idp, **USER_CLAIMS)[1] is not None


def test_a_replayed_nonce_is_refused(client: TestClient, idp: FakeIssuerState) -> None:
    first = start(client)
    answer(idp, nonce=first["nonce"], **USER_CLAIMS)
    assert callback(client, first)[1] is not None
    second = start(client)
    # The token endpoint hands back the earlier sign-in's ID token.
    location, token = callback(client, second)
    assert token is None and "error=issuer" in location


def test_missing_required_role_is_refused_and_missing_claims_never_grant_admin(
    client: TestClient, idp: FakeIssuerState
) -> None:
    query = start(client)
    answer(idp, nonce=query["nonce"])  # no realm_access at all
    location, token = callback(client, query)
    assert token is None and "error=role" in location
    location, token = sign_in(client, idp, realm_access={"roles": "admin"}, groups="admins")
    assert token is None and "error=role" in location
    # Positive control: the same flow with the required role signs in.
    assert sign_in(client, idp, **USER_CLAIMS)[1] is not None


def test_unverified_email_is_not_taken_and_email_never_links(
    client: TestClient, idp: FakeIssuerState
) -> None:
    make_user("person@example.com")
    query = start(client)
    answer(idp, nonce=query["nonce"], **USER_CLAIMS)
    location, token = callback(client, query)
    assert token is None and "error=email_taken" in location
    _, token = sign_in(client, idp, email_verified=False, **USER_CLAIMS)
    user = get_identity_provider().current_user(token)
    assert user is not None and user.email.endswith(".invalid") and not user.is_admin


def _expire_access(token: str | None) -> None:
    found = accounts.resolve_session(token)
    assert found is not None
    with session_scope() as db:
        row = db.get(AuthSession, found[1].id)
        assert row is not None
        row.access_expires_at = utcnow() - timedelta(seconds=1)


def test_refresh_rereads_roles_and_a_refused_refresh_ends_the_session(
    client: TestClient, idp: FakeIssuerState
) -> None:
    _, token = sign_in(client, idp, **ADMIN_CLAIMS)
    provider = get_identity_provider()
    _expire_access(token)
    answer(idp, nonce=None, **USER_CLAIMS)  # admin revoked at the issuer
    user = provider.current_user(token)
    assert user is not None and not user.is_admin
    assert provider.current_user(token) is not None  # fresh again: no second refresh
    _expire_access(token)
    idp.token_status, idp.token_answer = 400, {"error": "invalid_grant"}
    assert provider.current_user(token) is None
    idp.token_status = 200
    answer(idp, nonce=None, **USER_CLAIMS)
    assert provider.current_user(token) is None  # ended for good


def test_refresh_that_loses_the_required_role_ends_the_session(
    client: TestClient, idp: FakeIssuerState
) -> None:
    _, token = sign_in(client, idp, **USER_CLAIMS)
    # Positive control: a refresh that keeps the role keeps the session.
    _expire_access(token)
    answer(idp, nonce=None, **USER_CLAIMS)
    assert get_identity_provider().current_user(token) is not None
    _expire_access(token)
    answer(idp, nonce=None, realm_access={"roles": []})
    assert get_identity_provider().current_user(token) is None


def test_back_channel_logout_ends_the_matching_sessions(
    client: TestClient, idp: FakeIssuerState
) -> None:
    _, token = sign_in(client, idp, **USER_CLAIMS)
    now = int(time.time())
    bad = idp.sign({"iss": idp.url, "aud": CLIENT_ID, "iat": now, "jti": "j", "sid": "x"})
    assert (
        client.post(routes.AUTH_BACKCHANNEL_LOGOUT, data={"logout_token": bad}).status_code == 400
    )
    assert get_identity_provider().current_user(token) is not None
    good = idp.sign(
        {
            "iss": idp.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 60,
            "jti": "j2",
            "sid": "kc-session-1",
            "events": {BACKCHANNEL_EVENT: {}},
        }
    )
    assert (
        client.post(routes.AUTH_BACKCHANNEL_LOGOUT, data={"logout_token": good}).status_code == 200
    )
    assert get_identity_provider().current_user(token) is None


def test_logout_goes_to_the_issuer_with_id_token_hint(
    client: TestClient, idp: FakeIssuerState
) -> None:
    query = start(client)
    answer(idp, nonce=query["nonce"], **USER_CLAIMS)
    _, token = callback(client, query)
    assert get_identity_provider().current_user(token) is not None  # positive control
    response = client.post(routes.AUTH_LOGOUT, headers=ORIGIN)
    target = urlsplit(response.headers["location"])
    params = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{idp.url}/logout"
    assert params["id_token_hint"] == [idp.token_answer["id_token"]]
    assert params["post_logout_redirect_uri"] == ["http://testserver/signin"]
    assert get_identity_provider().current_user(token) is None


def test_sessions_and_their_tokens_survive_a_restart(
    client: TestClient, idp: FakeIssuerState
) -> None:
    _, token = sign_in(client, idp, **USER_CLAIMS)
    clear_caches()  # a new process: new provider, issuer cache and engine; same DB and key
    _expire_access(token)
    answer(idp, nonce=None, **ADMIN_CLAIMS)
    user = get_identity_provider().current_user(token)
    assert user is not None and user.is_admin  # refreshed with the stored, decrypted token


async def test_a_hanging_refresh_holds_up_only_its_own_user(
    client: TestClient, idp: FakeIssuerState
) -> None:
    """The guard resolves users off the loop: an issuer that hangs on one user's refresh
    neither stalls the event loop nor delays another user's next event."""
    _, slow = sign_in(client, idp, **USER_CLAIMS)
    _, fast = sign_in(
        client, idp, sub="subject-2", email="other@example.com", sid="kc-2", **USER_CLAIMS
    )
    _expire_access(slow)
    answer(idp, nonce=None, **USER_CLAIMS)  # what the first user's refresh will get, late
    idp.token_delay = 2.0
    cache = get_user_cache()
    hanging = asyncio.create_task(off_loop(cache.resolve, slow))
    gaps: list[float] = []
    last = time.perf_counter()
    for _ in range(20):  # 0.2 s of ticks while the refresh hangs
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    started = time.perf_counter()
    other = await off_loop(cache.resolve, fast)
    took = time.perf_counter() - started
    assert not hanging.done()  # positive control: the refresh really is hanging
    assert other is not None and other.email == "other@example.com"
    assert took < 0.1 and max(gaps) < 0.1, (took, max(gaps))
    idp.token_delay = 0
    assert (await hanging) is not None  # and it completes once the issuer answers


def test_under_reflex_run_the_callback_is_the_backends_and_lands_on_the_page(
    idp: FakeIssuerState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Development: /auth/start and /auth/callback on BACKEND_PORT, the pages on PORT."""
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    monkeypatch.setenv("PUBLIC_URL", "http://localhost:3100")
    monkeypatch.setenv("BACKEND_PORT", "8100")
    clear_caches()
    client = TestClient(
        Starlette(routes=auth_routes(get_identity_provider())),
        base_url="http://localhost:8100",
        follow_redirects=False,
    )
    query = start(client)
    assert query["redirect_uri"] == "http://localhost:8100/auth/callback"
    answer(idp, nonce=query["nonce"], **USER_CLAIMS)
    location, token = callback(client, query)
    assert location == "http://localhost:3100/s/abc"
    assert get_identity_provider().current_user(token) is not None

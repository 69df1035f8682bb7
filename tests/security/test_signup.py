"""Sign-up policy (issue 9, item 6), on SQLite and PostgreSQL: SIGNUP=open|invite|closed,
single-use invite links, the first admin made atomically (or by ADMIN_EMAIL, or by the
bootstrap link), and one answer whether or not the email already has an account."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import routes
from compymac_rx.accounts import bootstrap, invites
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.admins import NotAdmin
from compymac_rx.accounts.models import AdminClaim, Invite, User
from compymac_rx.db import session_scope, utcnow
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes
from tests.conftest import clear_caches
from tests.factories import PASSWORD, make_user, session_cookies_set

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
SIGNUPS = 8


def policy(monkeypatch: pytest.MonkeyPatch, signup: str, admin_email: str = "") -> None:
    monkeypatch.setenv("SIGNUP", signup)
    monkeypatch.setenv("ADMIN_EMAIL", admin_email)
    clear_caches()


def refusal(attempt: Callable[[], object]) -> str:
    with pytest.raises(accounts.AuthError) as refused:
        attempt()
    return refused.value.code


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["invite"][0]


def users() -> list[User]:
    with session_scope() as db:
        return list(db.exec(select(User)))


def test_concurrent_first_sign_ups_make_exactly_one_admin() -> None:
    gate = threading.Barrier(SIGNUPS)

    def sign_up(index: int) -> str:
        gate.wait()
        return accounts.sign_up(f"racer{index}@example.com", PASSWORD)

    with ThreadPoolExecutor(SIGNUPS) as pool:
        tokens = list(pool.map(sign_up, range(SIGNUPS)))
    admins = [user for user in users() if user.is_admin]
    assert len(users()) == SIGNUPS and len(admins) == 1
    with session_scope() as db:
        [claim] = db.exec(select(AdminClaim)).all()
    assert claim.user_id == admins[0].id
    assert sum(bool(u and u.is_admin) for u in map(accounts.resolve_user, tokens)) == 1


def test_an_existing_email_gets_the_same_answer_and_the_same_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_user("taken@example.com")
    hashed: list[str] = []
    real_hash = accounts.password_hasher().hash
    monkeypatch.setattr(
        accounts.password_hasher(), "hash", lambda p: hashed.append(p) or real_hash(p)
    )
    assert refusal(lambda: accounts.sign_up("taken@example.com", PASSWORD)) == "unavailable"
    accounts.sign_up("fresh@example.com", PASSWORD)
    assert len(hashed) == 2  # the password is hashed for a taken email too: same timing
    message = accounts.AUTH_ERROR_MESSAGES["unavailable"]
    assert "exist" not in message and "If you already have one, sign in" in message


def test_the_sign_up_route_does_not_say_the_email_exists() -> None:
    make_user("known@example.com")
    client = TestClient(Starlette(routes=auth_routes(get_identity_provider())))
    response = client.post(
        routes.AUTH_SIGNUP,
        data={"email": "known@example.com", "password": PASSWORD},
        headers={"origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/signup?error=unavailable"
    assert session_cookies_set(response) == []
    # Positive control: a new email through the same route gets the session cookie.
    fresh = client.post(
        routes.AUTH_SIGNUP,
        data={"email": "unknown@example.com", "password": PASSWORD},
        headers={"origin": "http://testserver"},
        follow_redirects=False,
    )
    assert "set-cookie" in fresh.headers


def test_the_sign_up_form_carries_the_invite(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = make_user("admin@example.com")
    policy(monkeypatch, "invite")
    token = token_of(invites.create_invite(admin.id))
    client = TestClient(Starlette(routes=auth_routes(get_identity_provider())))

    def post(email: str, invite: str) -> str:
        response = client.post(
            routes.AUTH_SIGNUP,
            data={"email": email, "password": PASSWORD, "invite": invite},
            headers={"origin": "http://testserver"},
            follow_redirects=False,
        )
        return str(response.headers["location"])

    # A refusal goes back to the form with the link's token, so the person can retry.
    assert post("admin@example.com", token) == f"/signup?invite={token}&error=unavailable"
    assert post("new@example.com", token) == "/"
    assert post("other@example.com", token) == f"/signup?invite={token}&error=invite"


def test_closed_sign_up_refuses_everyone_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("old@example.com")
    policy(monkeypatch, "closed")
    assert refusal(lambda: accounts.sign_up("old@example.com", PASSWORD)) == "closed"
    assert refusal(lambda: accounts.sign_up("new@example.com", PASSWORD)) == "closed"
    assert [u.email for u in users()] == ["old@example.com"]


def test_invite_links_are_single_use_hashed_and_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = make_user("admin@example.com")
    policy(monkeypatch, "invite")
    assert refusal(lambda: accounts.sign_up("a@example.com", PASSWORD)) == "invite"
    link = invites.create_invite(admin.id)
    assert link.startswith("http://localhost:3000/signup?invite=")
    token = token_of(link)
    with session_scope() as db:
        [row] = db.exec(select(Invite)).all()
    assert row.token_hash == accounts.hash_token(token) and token not in repr(row)
    invited = accounts.resolve_user(accounts.sign_up("a@example.com", PASSWORD, invite=token))
    assert invited is not None and not invited.is_admin
    assert refusal(lambda: accounts.sign_up("b@example.com", PASSWORD, invite=token)) == "invite"
    # An expired link is refused.
    late = token_of(invites.create_invite(admin.id))
    with session_scope() as db:
        for row in db.exec(select(Invite).where(Invite.used_at == None)):  # noqa: E711
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.add(row)
    assert refusal(lambda: accounts.sign_up("c@example.com", PASSWORD, invite=late)) == "invite"


def test_a_bad_invite_reads_the_same_for_known_and_new_emails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = make_user("admin@example.com")
    policy(monkeypatch, "invite")
    for email in ("admin@example.com", "new@example.com"):
        attempt = functools.partial(accounts.sign_up, email, PASSWORD, invite="made-up")
        assert refusal(attempt) == "invite"
    # A good link with a taken email: "unavailable", and the link stays usable.
    token = token_of(invites.create_invite(admin.id))
    code = refusal(lambda: accounts.sign_up("admin@example.com", PASSWORD, invite=token))
    assert code == "unavailable"
    assert accounts.sign_up("new@example.com", PASSWORD, invite=token)


def test_only_admins_make_invites(monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("admin@example.com")
    plain = make_user("plain@example.com")
    with pytest.raises(NotAdmin):
        invites.create_invite(plain.id)


def test_the_bootstrap_link_makes_the_first_admin_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy(monkeypatch, "closed")
    bootstrap.main()
    first = token_of(capsys.readouterr().out.strip().rsplit(" ", 1)[-1])
    bootstrap.main()  # the next start replaces the unused link
    second = token_of(capsys.readouterr().out.strip().rsplit(" ", 1)[-1])
    assert refusal(lambda: accounts.sign_up("a@example.com", PASSWORD, invite=first)) == "invite"
    admin = accounts.resolve_user(accounts.sign_up("ops@example.com", PASSWORD, invite=second))
    assert admin is not None and admin.is_admin
    bootstrap.main()
    assert capsys.readouterr().out == ""  # an admin exists: no more links
    # With SIGNUP=closed, an admin's ordinary invite does not open sign-up.
    ordinary = token_of(invites.create_invite(admin.id))
    code = refusal(lambda: accounts.sign_up("b@example.com", PASSWORD, invite=ordinary))
    assert code == "invite"


def test_admin_email_decides_who_is_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "open", admin_email="Boss@Example.com")
    stranger = make_user("first@example.com")
    boss = make_user("boss@example.com")
    assert not stranger.is_admin and boss.is_admin

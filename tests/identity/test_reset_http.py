"""The forgotten-password routes, through a real Starlette app (no browser)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import routes
from compymac_rx.accounts import service as accounts
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes
from tests.factories import make_user
from tests.mail import keep_mail

ORIGIN = {"origin": "http://testserver"}
NEW = "a fresh passphrase here"


@pytest.fixture
def client() -> TestClient:
    app = Starlette(routes=auth_routes(get_identity_provider()))
    return TestClient(app, follow_redirects=False)


def test_forgot_answers_the_same_and_the_link_resets_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail = keep_mail(monkeypatch)
    make_user("known@example.com")
    answers = [
        client.post(routes.AUTH_FORGOT, data={"email": email}, headers=ORIGIN)
        for email in ("known@example.com", "unknown@example.com")
    ]
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert answers[0].headers["location"] == routes.signin_url(notice="sent")
    assert len(mail.links()) == 1  # waits for the outbox
    assert [m.to for m in mail.sent] == ["known@example.com"]
    token = mail.token()

    weak = client.post(
        routes.AUTH_RESET, data={"token": token, "password": "short"}, headers=ORIGIN
    )
    assert "error=password" in weak.headers["location"]
    done = client.post(routes.AUTH_RESET, data={"token": token, "password": NEW}, headers=ORIGIN)
    assert done.headers["location"] == routes.signin_url(notice="reset")
    assert accounts.sign_in("known@example.com", NEW)
    again = client.post(routes.AUTH_RESET, data={"token": token, "password": NEW}, headers=ORIGIN)
    assert "error=reset_link" in again.headers["location"]


def test_cross_site_posts_are_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    mail = keep_mail(monkeypatch)
    make_user("victim@example.com")
    evil = {"origin": "http://evil.example"}
    answer = client.post(routes.AUTH_FORGOT, data={"email": "victim@example.com"}, headers=evil)
    assert "error=origin" in answer.headers["location"]
    assert mail.links() == []
    # The control: the same request from the app's own origin does send the link.
    client.post(routes.AUTH_FORGOT, data={"email": "victim@example.com"}, headers=ORIGIN)
    assert len(mail.links()) == 1

"""Forgotten passwords: single-use, short-lived, hashed, enumeration-safe (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from compymac_rx.accounts import resets
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import PasswordReset
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.db import session_scope, utcnow
from tests.conftest import clear_caches
from tests.factories import PASSWORD, signed_in_token
from tests.mail import KeptMail, keep_mail

NEW = "my new passphrase"


@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> KeptMail:
    return keep_mail(monkeypatch)


def test_a_link_resets_once_and_ends_every_sign_in(mail: KeptMail) -> None:
    _, token = signed_in_token("r@example.com")
    resets.request_reset("R@Example.com ")
    link_token = mail.token()
    assert mail.sent[0].to == "r@example.com"
    with session_scope() as db:
        [row] = db.exec(select(PasswordReset)).all()
    assert row.token_hash == hash_token(link_token) and link_token not in repr(row)
    assert resets.reset_link_usable(link_token)
    resets.reset_password(link_token, NEW)
    assert accounts.resolve_user(token) is None
    assert accounts.sign_in("r@example.com", NEW)
    with pytest.raises(accounts.AuthError) as reused:
        resets.reset_password(link_token, "yet another passphrase")
    assert reused.value.code == "reset_link"
    assert not resets.reset_link_usable(link_token)


def test_unknown_and_known_emails_get_the_same_answer_and_only_one_gets_mail(
    mail: KeptMail,
) -> None:
    signed_in_token("known@example.com")
    assert resets.request_reset("known@example.com") is None
    assert resets.request_reset("unknown@example.com") is None
    assert resets.request_reset("not an email") is None
    assert len(mail.links()) == 1 and mail.sent[0].to == "known@example.com"


def test_an_expired_link_is_refused(mail: KeptMail) -> None:
    signed_in_token("old@example.com")
    resets.request_reset("old@example.com")
    link_token = mail.token()
    with session_scope() as db:
        db.execute(
            update(PasswordReset)
            .where(col(PasswordReset.token_hash) == hash_token(link_token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(accounts.AuthError) as expired:
        resets.reset_password(link_token, NEW)
    assert expired.value.code == "reset_link"
    assert accounts.sign_in("old@example.com", PASSWORD)


def test_a_weak_password_leaves_the_link_usable_and_other_links_die_after_a_reset(
    mail: KeptMail,
) -> None:
    signed_in_token("weak@example.com")
    resets.request_reset("weak@example.com")
    first = mail.token()
    resets.request_reset("weak@example.com")
    second = mail.token()
    with pytest.raises(accounts.AuthError) as weak:
        resets.reset_password(second, "short")
    assert weak.value.code == "password"
    resets.reset_password(second, NEW)
    with pytest.raises(accounts.AuthError):
        resets.reset_password(first, "some other passphrase")


def test_requests_are_throttled_per_email(mail: KeptMail, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSWORD_RESETS_PER_HOUR", "2")
    clear_caches()
    signed_in_token("busy@example.com")
    for _ in range(4):
        resets.request_reset("busy@example.com", ip="203.0.113.9")
    assert len(mail.links()) == 2


def test_a_disabled_account_gets_no_link(mail: KeptMail) -> None:
    signed_in_token("admin@example.com")
    user, _ = signed_in_token("off@example.com")
    accounts.set_user_flags(user.id, is_active=False)
    resets.request_reset("off@example.com")
    assert mail.links() == []
    # The control: the same request for an active account does send one.
    resets.request_reset("admin@example.com")
    assert len(mail.links()) == 1


def test_two_racing_uses_of_one_link_let_exactly_one_win(mail: KeptMail) -> None:
    from concurrent.futures import ThreadPoolExecutor

    signed_in_token("race@example.com")
    resets.request_reset("race@example.com")
    link_token = mail.token()

    def use(password: str) -> str:
        try:
            resets.reset_password(link_token, password)
        except accounts.AuthError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(use, ["first passphrase one", "second passphrase two"]))
    assert results == ["ok", "reset_link"]

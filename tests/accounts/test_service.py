from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import AuthSession, User
from compymac_rx.db import session_scope, utcnow
from tests.factories import PASSWORD, make_user


def test_first_account_is_admin_and_later_ones_are_not() -> None:
    first = make_user("first@example.com")
    second = make_user("second@example.com")
    assert first.is_admin and not second.is_admin


def test_email_is_normalised_and_duplicates_are_refused() -> None:
    user = make_user("  Mixed.Case@Example.COM ")
    assert user.email == "mixed.case@example.com"
    with pytest.raises(accounts.AuthError) as error:
        accounts.sign_up("MIXED.case@example.com", PASSWORD)
    assert error.value.code == "unavailable"


@pytest.mark.parametrize(
    "email", ["", "no-at-sign", "a@b", "two@@example.com", "x" * 320 + "@a.io"]
)
def test_invalid_emails_are_refused_and_nothing_is_stored(email: str) -> None:
    with pytest.raises(accounts.AuthError) as error:
        accounts.sign_up(email, PASSWORD)
    assert error.value.code == "email"
    with session_scope() as db:
        assert db.exec(select(User)).all() == []


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaaaaa", "p@example.com"])
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(accounts.AuthError) as error:
        accounts.sign_up("p@example.com", password)
    assert error.value.code == "password"


def test_wrong_password_and_unknown_email_give_the_same_error() -> None:
    make_user("known@example.com")
    with pytest.raises(accounts.AuthError) as wrong:
        accounts.sign_in("known@example.com", "not the password")
    with pytest.raises(accounts.AuthError) as unknown:
        accounts.sign_in("nobody@example.com", PASSWORD)
    assert wrong.value.code == unknown.value.code == "invalid"


def test_sign_in_returns_a_token_for_the_right_user() -> None:
    user = make_user("right@example.com")
    token = accounts.sign_in("RIGHT@example.com", PASSWORD)
    resolved = accounts.resolve_user(token)
    assert resolved is not None and resolved.id == user.id


def test_only_a_hash_of_the_token_is_stored() -> None:
    make_user("hash@example.com")
    token = accounts.sign_in("hash@example.com", PASSWORD)
    with session_scope() as db:
        rows = db.exec(select(AuthSession)).all()
    assert all(row.token_hash != token for row in rows)
    assert accounts.hash_token(token) in {row.token_hash for row in rows}


def test_repeated_failures_are_throttled_per_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    from tests.conftest import clear_caches

    clear_caches()
    make_user("victim@example.com")
    for _ in range(3):
        with pytest.raises(accounts.AuthError):
            accounts.sign_in("victim@example.com", "wrong password", ip="10.0.0.1")
    with pytest.raises(accounts.AuthError) as throttled:
        accounts.sign_in("victim@example.com", PASSWORD, ip="10.0.0.2")
    assert throttled.value.code == "throttled"
    assert 0 < throttled.value.retry_after <= 300


def test_repeated_failures_are_throttled_per_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")
    from tests.conftest import clear_caches

    clear_caches()
    make_user("other@example.com")
    for n in range(4):  # the IP limit is four times the per-email one
        with pytest.raises(accounts.AuthError):
            accounts.sign_in(f"guess{n}@example.com", "wrong password", ip="10.9.9.9")
    with pytest.raises(accounts.AuthError) as throttled:
        accounts.sign_in("other@example.com", PASSWORD, ip="10.9.9.9")
    assert throttled.value.code == "throttled"


def test_sign_out_revokes_the_session() -> None:
    make_user("bye@example.com")
    token = accounts.sign_in("bye@example.com", PASSWORD)
    assert accounts.resolve_user(token) is not None  # positive control: live before
    accounts.sign_out(token)
    assert accounts.resolve_user(token) is None


def test_an_expired_session_resolves_to_nobody() -> None:
    make_user("old@example.com")
    token = accounts.sign_in("old@example.com", PASSWORD)
    assert accounts.resolve_user(token) is not None  # positive control: live before
    with session_scope() as db:
        for row in db.exec(select(AuthSession)).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.add(row)
    assert accounts.resolve_user(token) is None


def test_unknown_or_missing_tokens_resolve_to_nobody() -> None:
    assert accounts.resolve_user(None) is None
    assert accounts.resolve_user("") is None
    assert accounts.resolve_user("not-a-token") is None
    make_user("known@example.com")  # positive control: a real token resolves
    assert accounts.resolve_user(accounts.sign_in("known@example.com", PASSWORD)) is not None

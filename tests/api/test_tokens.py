"""Personal access tokens: shown once, stored hashed, scoped, expiring, revocable, owner-only."""

from __future__ import annotations

import pytest

from compymac_rx.db import session_scope
from compymac_rx.tokens import service as tokens
from compymac_rx.tokens.models import AccessToken
from tests.api.conftest import expire
from tests.factories import make_user


def test_a_token_is_shown_once_and_stored_as_a_hash() -> None:
    alice = make_user()
    public, secret = tokens.create_token(alice.id, "  CI   bot ", days=30, scopes=["read"])
    assert secret.startswith("cmx_") and len(secret) > 40
    assert (
        public.name == "CI bot" and public.scopes == ("read",) and secret.startswith(public.prefix)
    )
    with session_scope() as db:
        row = db.get(AccessToken, public.id)
        assert row is not None and row.token_hash == tokens.hash_token(secret)
        assert secret not in (row.token_hash, row.prefix, row.name)
    [listed] = tokens.list_tokens(alice.id)
    assert listed.last_used_at is None
    found = tokens.authenticate(secret)
    assert found is not None and found.user_id == alice.id and not found.can("write")
    [listed] = tokens.list_tokens(alice.id)
    assert listed.last_used_at is not None


def test_write_implies_read() -> None:
    alice = make_user()
    public, secret = tokens.create_token(alice.id, "rw", days=1, scopes=["write"])
    assert public.scopes == ("read", "write")
    found = tokens.authenticate(secret)
    assert found is not None and found.can("read") and found.can("write")


@pytest.mark.parametrize(
    ("name", "days", "scopes", "message"),
    [
        ("", 30, ["read"], "name"),
        ("x" * 101, 30, ["read"], "name"),
        ("ok", 0, ["read"], "1 to 366 days"),
        ("ok", 367, ["read"], "1 to 366 days"),
        ("ok", 30, [], "read"),
        ("ok", 30, ["admin"], "read"),
    ],
)
def test_bad_requests_are_refused(name: str, days: int, scopes: list[str], message: str) -> None:
    with pytest.raises(tokens.TokenError, match=message):
        tokens.create_token(make_user().id, name, days=days, scopes=scopes)


def test_revoked_expired_and_unknown_tokens_fail() -> None:
    alice, bob = make_user(), make_user()
    public, secret = tokens.create_token(alice.id, "a", days=30, scopes=["read"])
    assert tokens.revoke_token(bob.id, public.id) is False  # not bob's
    assert tokens.authenticate(secret) is not None
    assert tokens.revoke_token(alice.id, public.id) is True
    assert tokens.authenticate(secret) is None
    assert tokens.list_tokens(alice.id)[0].revoked and tokens.list_tokens(bob.id) == []

    _, other = tokens.create_token(alice.id, "b", days=30, scopes=["read"])
    assert tokens.authenticate(other) is not None  # positive control: valid until expired
    expire(other)
    assert tokens.authenticate(other) is None
    assert tokens.authenticate("cmx_" + "x" * 43) is None
    assert tokens.authenticate("not-a-token") is None

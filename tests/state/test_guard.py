"""The event guard's pieces that need no browser: typed payloads, the user handed to handlers."""

from __future__ import annotations

import inspect
import time

import pytest

from compymac_rx.accounts import repository
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.db import session_scope, utcnow
from compymac_rx.identity.cache import UserCache
from compymac_rx.state.guard import payload_problem, signed_in
from compymac_rx.state.payloads import Id, MessageId, ShortText
from tests.factories import signed_in_token


class Page:
    async def rename(self, session_id: Id, title: ShortText, archived: bool = False) -> None: ...

    async def open(self, message_id: MessageId) -> None: ...


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"session_id": "abc123", "title": "x"}, None),
        ({"session_id": "abc123", "title": "x", "archived": True}, None),
        ({"session_id": "abc123", "title": "x", "archived": "true"}, "archived: bool_type"),
        ({"session_id": "../../etc", "title": "x"}, "session_id: string_pattern_mismatch"),
        ({"session_id": "a" * 65, "title": "x"}, "session_id: string_too_long"),
        ({"session_id": "abc", "title": "x" * 1001}, "title: string_too_long"),
        ({"session_id": ["abc"], "title": "x"}, "session_id: string_type"),
        ({"session_id": "abc"}, "title: missing"),
        ({"session_id": "abc", "title": "x", "user_id": "u"}, "user_id: extra_forbidden"),
        ({"session_id": {"a": {"b": {"c": 1}}}, "title": "x"}, "session_id: string_type"),
    ],
)
def test_payloads_are_checked_strictly_against_the_signature(payload, problem) -> None:
    found = payload_problem(Page.rename, payload)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)
        assert "etc" not in found and "xxx" not in found  # values are never echoed


def test_ids_are_non_negative_integers() -> None:
    assert payload_problem(Page.open, {"message_id": 7}) is None
    assert payload_problem(Page.open, {"message_id": -1}) is not None
    assert payload_problem(Page.open, {"message_id": "7"}) is not None


def test_signed_in_hides_the_user_from_what_the_browser_may_send() -> None:
    class State:
        async def send(self, user: CurrentUser, text: str) -> None: ...

    wrapped = signed_in(State.send)
    assert list(inspect.signature(wrapped).parameters) == ["self", "text"]
    assert "user" not in wrapped.__annotations__
    # The guard validates against the wrapper: a browser cannot name a user.
    assert payload_problem(wrapped, {"text": "hi"}) is None
    assert payload_problem(wrapped, {"text": "hi", "user": {"id": "x"}}) is not None


def test_a_session_ended_elsewhere_takes_effect_within_the_cache_time() -> None:
    user, token = signed_in_token()
    cache = UserCache(ttl_seconds=0.3)
    assert cache.resolve(token) == user
    # As another process would: straight in the database, without this process knowing.
    with session_scope() as db:
        revoked = repository.revoke_auth_session(
            db, token_hash=accounts.hash_token(token), now=utcnow()
        )
    assert revoked == 1
    assert cache.resolve(token) == user  # within the cache time: maybe the old answer...
    time.sleep(0.35)
    assert cache.resolve(token) is None  # ...and never after it


def test_a_sign_out_in_this_process_takes_effect_at_once() -> None:
    user, token = signed_in_token()
    cache = UserCache(ttl_seconds=60)
    assert cache.resolve(token) == user
    accounts.sign_out(token)
    assert cache.resolve(token) is None


def test_no_caching_resolves_every_time() -> None:
    user, token = signed_in_token()
    cache = UserCache(ttl_seconds=0)
    assert cache.resolve(token) == user
    accounts.sign_out(token)
    assert cache.resolve(token) is None
    assert cache.resolve(None) is None

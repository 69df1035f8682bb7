"""Throttles in memory and in a real Redis: the same rules, and a wait time users can read."""

from __future__ import annotations

import pytest

from compymac_rx import ratelimit
from compymac_rx.accounts import service as accounts
from compymac_rx.chats import service as chats
from compymac_rx.ratelimit import RedisRateLimiter
from tests.factories import PASSWORD, make_user
from tests.services import Redis


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis")
    monkeypatch.setenv("RATE_LIMIT_STORE", request.param)
    return str(request.param)


def test_messages_per_minute_per_user(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "2")
    user, other = make_user(), make_user()
    session = chats.create_session(user.id)
    for _ in range(2):
        assert ratelimit.take("message_user", f"user:{user.id}") == 0
    with pytest.raises(
        chats.ChatError,
        match=r"^You are sending messages too fast\. "
        r"Try again in ([1-9]|[1-5][0-9]|60) s\.$",
    ):
        chats.send_message(user.id, session.id, "help")
    assert ratelimit.take("message_user", f"user:{other.id}") == 0  # per user


def test_sign_ups_per_ip(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNUPS_PER_HOUR_PER_IP", "2")
    accounts.sign_up("a@example.com", PASSWORD, ip="10.0.0.1")
    accounts.sign_up("b@example.com", PASSWORD, ip="10.0.0.1")
    with pytest.raises(accounts.AuthError) as refused:
        accounts.sign_up("c@example.com", PASSWORD, ip="10.0.0.1")
    assert refused.value.code == "throttled" and 3500 < refused.value.retry_after <= 3600
    accounts.sign_up("c@example.com", PASSWORD, ip="10.0.0.2")


def test_sign_in_failures_per_email(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    accounts.sign_up("d@example.com", PASSWORD)
    for _ in range(2):
        with pytest.raises(accounts.AuthError, match="invalid"):
            accounts.sign_in("d@example.com", "wrong password", ip="10.0.0.3")
    with pytest.raises(accounts.AuthError) as refused:
        accounts.sign_in("d@example.com", PASSWORD, ip="10.0.0.3")
    assert refused.value.code == "throttled" and 0 < refused.value.retry_after <= 300


def test_uploads_per_minute(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOADS_PER_MINUTE", "1")
    assert ratelimit.take("upload_user", "user:u1") == 0
    assert 0 < ratelimit.take("upload_user", "user:u1") <= 60


def test_redis_limits_are_shared_between_processes(redis: Redis) -> None:
    import redis as redis_client

    def limiter() -> RedisRateLimiter:
        client = redis_client.Redis.from_url(redis.url)
        return RedisRateLimiter(client, name="t", max_failures=2, window_seconds=30)

    first, second = limiter(), limiter()
    first.record_failure("k")
    second.record_failure("k")
    assert 0 < first.retry_after("k") <= 30
    second.reset("k")
    assert first.retry_after("k") == 0


def test_an_unreachable_redis_lets_requests_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.services import free_port

    monkeypatch.setenv("RATE_LIMIT_STORE", "redis")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert ratelimit.take("message_user", "user:x") == 0

"""Rate limits check and record in one step (issue 9, item 8): a parallel burst of N+10
attempts admits exactly N, in memory and in a real Redis shared by several clients."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis as redis_client

from compymac_rx import ratelimit
from compymac_rx.accounts import service as accounts
from compymac_rx.chats import service as chats
from compymac_rx.ratelimit import RedisRateLimiter
from tests.factories import PASSWORD, make_user, wait_for_job
from tests.services import Redis

LIMIT = 5
BURST = LIMIT + 10


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis")
    monkeypatch.setenv("RATE_LIMIT_STORE", request.param)
    return str(request.param)


def burst(attempt: Callable[[int], object], count: int = BURST) -> list[object]:
    """`count` calls released at the same instant from as many threads."""
    gate = threading.Barrier(count)

    def one(index: int) -> object:
        gate.wait()
        return attempt(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_a_burst_of_takes_admits_exactly_the_limit(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESSAGES_PER_MINUTE", str(LIMIT))
    waits = burst(lambda _: ratelimit.take("message_user", "user:burst"))
    assert waits.count(0) == LIMIT
    assert all(isinstance(w, int) and 0 < w <= 60 for w in waits if w != 0)


def test_processes_sharing_redis_admit_exactly_the_limit(redis: Redis) -> None:
    """One client (one connection) per thread, as separate app processes would have."""
    limiters = [
        RedisRateLimiter(
            redis_client.Redis.from_url(redis.url), name="t", max_failures=LIMIT, window_seconds=30
        )
        for _ in range(BURST)
    ]
    waits = burst(lambda i: limiters[i].take("k"))
    assert waits.count(0) == LIMIT
    assert redis_client.Redis.from_url(redis.url).zcard("compymac:rl:t:k") == LIMIT


def test_a_burst_of_wrong_passwords_gets_exactly_the_limit_of_guesses(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    make_user("victim@example.com")

    def guess(index: int) -> str:
        try:
            accounts.sign_in("victim@example.com", f"wrong guess {index}", ip=f"10.1.0.{index}")
        except accounts.AuthError as error:
            return error.code
        return "signed in"

    codes = burst(guess, 13)
    assert codes.count("invalid") == 3 and codes.count("throttled") == 10


def test_a_right_password_gives_its_slot_back(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")  # an IP: 4 attempts per window
    users = [make_user() for _ in range(6)]
    for user in users:  # six people behind one NAT sign in: none is refused
        accounts.sign_in(user.email, PASSWORD, ip="10.2.0.1")


def test_regenerate_and_edit_count_against_the_message_limit(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "3")
    user = make_user()
    session = chats.create_session(user.id)
    wait_for_job(user.id, chats.send_message(user.id, session.id, "first"))
    wait_for_job(user.id, chats.resend_from(user.id, session.id, None, None))
    [anchor] = [m for m in chats.load_messages(user.id, session.id) if m.role == "user"]
    wait_for_job(user.id, chats.resend_from(user.id, session.id, anchor.id, "edited"))
    for message_id, text in ((None, None), (anchor.id, "edited again")):
        with pytest.raises(chats.ChatError, match="sending messages too fast"):
            chats.resend_from(user.id, session.id, message_id, text)
    with pytest.raises(chats.ChatError, match="sending messages too fast"):
        chats.send_message(user.id, session.id, "one more")

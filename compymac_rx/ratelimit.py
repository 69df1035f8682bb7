"""Throttling: a sliding window of hits per key, in memory or (production) in Redis.

`take` checks and records in one step (under a lock in memory, in one Lua script in Redis),
so a burst of parallel requests cannot all pass the check before any of them is counted.
Sign-in takes a slot per attempt and gives it back when the password was right; sign-ups,
OIDC starts, messages and uploads count every attempt.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Literal, Protocol

import redis

from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

LimitName = Literal[
    "login_email",
    "login_ip",
    "signup_ip",
    "auth_start_ip",
    "message_user",
    "upload_user",
    "reset_email",
    "reset_ip",
    "mail_link_email",
    "mail_link_ip",
    "second_factor_user",
]


class RateLimiter(Protocol):
    def take(self, key: str) -> int:
        """Atomically: 0 and one hit recorded when `key` may act now, else the seconds to
        wait (nothing recorded)."""
        ...

    def give_back(self, key: str) -> None:
        """Remove one hit of `key` (an attempt that turned out not to count)."""
        ...

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        ...

    def record_failure(self, key: str) -> None: ...

    def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    """In-process limiter: at most `max_failures` within `window_seconds` per key."""

    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._failures[key]
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if not hits:
            del self._failures[key]
        return hits

    def _wait(self, key: str, now: float) -> int:
        hits = self._prune(key, now)
        if len(hits) < self._max:
            return 0
        return max(1, math.ceil(hits[0] + self._window - now))

    def take(self, key: str) -> int:
        with self._lock:
            now = self._clock()
            wait = self._wait(key, now)
            if wait == 0:
                self._failures[key].append(now)
            return wait

    def give_back(self, key: str) -> None:
        with self._lock:
            hits = self._failures.get(key)
            if hits:
                hits.pop()
                if not hits:
                    del self._failures[key]

    def retry_after(self, key: str) -> int:
        with self._lock:
            return self._wait(key, self._clock())

    def record_failure(self, key: str) -> None:
        with self._lock:
            self._failures[key].append(self._clock())

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


# KEYS[1]: the key's sorted set of hit times. ARGV: window (s), max hits, a unique member.
# Redis runs a script alone, so check and record are one step for every process. Time is
# the Redis server's, so app processes with drifting clocks share one window.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
"""


class RedisRateLimiter:
    """The same window, shared by every process: a sorted set of hit times per key.

    When Redis is unreachable it lets requests through (and logs): a throttle must not take
    sign-in down with it.
    """

    def __init__(
        self, client: redis.Redis, *, name: str, max_failures: int, window_seconds: float
    ) -> None:
        self._redis = client
        self._prefix = f"compymac:rl:{name}:"
        self._max = max_failures
        self._window = window_seconds
        self._take = client.register_script(_TAKE)

    def take(self, key: str) -> int:
        try:
            wait = self._take(
                keys=[self._prefix + key], args=[self._window, self._max, uuid.uuid4().hex]
            )
        except redis.RedisError:
            log.warning("rate limit %s unchecked: redis unreachable", self._prefix)
            return 0
        return int(wait)

    def give_back(self, key: str) -> None:
        try:
            self._redis.zpopmax(self._prefix + key)
        except redis.RedisError:
            log.warning("rate limit %s not given back: redis unreachable", self._prefix)

    def retry_after(self, key: str) -> int:
        name, now = self._prefix + key, time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(name, 0, now - self._window)
            pipe.zrange(name, 0, 0, withscores=True)
            pipe.zcard(name)
            _, oldest, count = pipe.execute()
        except redis.RedisError:
            log.warning("rate limit %s unchecked: redis unreachable", self._prefix)
            return 0
        if int(count) < self._max or not oldest:
            return 0
        return max(1, math.ceil(float(oldest[0][1]) + self._window - now))

    def record_failure(self, key: str) -> None:
        name, now = self._prefix + key, time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zadd(name, {f"{now}:{uuid.uuid4().hex[:8]}": now})
            pipe.expire(name, math.ceil(self._window) + 1)
            pipe.execute()
        except redis.RedisError:
            log.warning("rate limit %s not counted: redis unreachable", self._prefix)

    def reset(self, key: str) -> None:
        try:
            self._redis.delete(self._prefix + key)
        except redis.RedisError:
            log.warning("rate limit %s not reset: redis unreachable", self._prefix)


def _limits(name: LimitName) -> tuple[int, float]:
    s = get_settings()
    return {
        "login_email": (s.login_max_failures, s.login_window_seconds),
        # An IP may fail more often: several people share one.
        "login_ip": (s.login_max_failures * 4, s.login_window_seconds),
        "signup_ip": (s.signups_per_hour_per_ip, 3600),
        "auth_start_ip": (s.auth_starts_per_minute_per_ip, 60),
        "message_user": (s.messages_per_minute, 60),
        "upload_user": (s.uploads_per_minute, 60),
        "reset_email": (s.password_resets_per_hour, 3600),
        "reset_ip": (s.password_resets_per_hour * 4, 3600),
        "mail_link_email": (s.mail_links_per_hour, 3600),
        "mail_link_ip": (s.mail_links_per_hour * 4, 3600),
        # Wrong two-factor codes count like wrong passwords, per account.
        "second_factor_user": (s.login_max_failures, s.login_window_seconds),
    }[name]


@functools.cache
def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=2, socket_connect_timeout=2
    )


_building = threading.Lock()


def get_limiter(name: LimitName) -> RateLimiter:
    """The limiter for one kind of action, in the store RATE_LIMIT_STORE names."""
    # functools.cache may build twice when threads miss at once: two memory limiters would
    # each admit the full limit. One lock makes the first build the only one.
    with _building:
        return _build_limiter(name)


@functools.cache
def _build_limiter(name: LimitName) -> RateLimiter:
    max_hits, window = _limits(name)
    if get_settings().rate_limit_store == "redis":
        return RedisRateLimiter(
            _redis_client(), name=name, max_failures=max_hits, window_seconds=window
        )
    return MemoryRateLimiter(max_failures=max_hits, window_seconds=window)


def take(name: LimitName, key: str) -> int:
    """Count one attempt; returns 0 when allowed, else the seconds to wait (not counted)."""
    return get_limiter(name).take(key)


def client_address(peer: str, forwarded_for: str | None) -> str:
    """The client's IP, for every per-IP limit and for the sign-in record.

    With TRUSTED_PROXY_HOPS=n, the n proxies in front of the app each append the address
    they saw to X-Forwarded-For, so the client is the n-th entry from the right; anything
    further left was written by the client and is ignored. With 0 (no proxy), the header is
    ignored altogether: anyone can send one.
    """
    hops = get_settings().trusted_proxy_hops
    if hops == 0 or not forwarded_for:
        return peer
    entries = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if not entries:
        return peer
    # Fewer entries than proxies: the request skipped the outer ones; the leftmost entry is
    # still one a trusted proxy wrote.
    candidate = entries[-hops] if len(entries) >= hops else entries[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer

"""Throttling: a sliding window of hits per key, in memory or (production) in Redis.

Sign-in counts failures; sign-ups, messages and uploads count every attempt (`take`).
"""

from __future__ import annotations

import functools
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

LimitName = Literal["login_email", "login_ip", "signup_ip", "message_user", "upload_user"]


class RateLimiter(Protocol):
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

    def retry_after(self, key: str) -> int:
        with self._lock:
            now = self._clock()
            hits = self._prune(key, now)
            if len(hits) < self._max:
                return 0
            return max(1, math.ceil(hits[0] + self._window - now))

    def record_failure(self, key: str) -> None:
        with self._lock:
            self._failures[key].append(self._clock())

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


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
        "message_user": (s.messages_per_minute, 60),
        "upload_user": (s.uploads_per_minute, 60),
    }[name]


@functools.cache
def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=2, socket_connect_timeout=2
    )


@functools.cache
def get_limiter(name: LimitName) -> RateLimiter:
    """The limiter for one kind of action, in the store RATE_LIMIT_STORE names."""
    max_hits, window = _limits(name)
    if get_settings().rate_limit_store == "redis":
        return RedisRateLimiter(
            _redis_client(), name=name, max_failures=max_hits, window_seconds=window
        )
    return MemoryRateLimiter(max_failures=max_hits, window_seconds=window)


def take(name: LimitName, key: str) -> int:
    """Count one attempt; returns 0 when allowed, else the seconds to wait (not counted)."""
    limiter = get_limiter(name)
    wait = limiter.retry_after(key)
    if wait == 0:
        limiter.record_failure(key)
    return wait

"""Throttling of repeated failures (sign-in): a sliding window per key."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Protocol


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

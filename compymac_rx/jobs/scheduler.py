"""One daemon thread per purpose that runs callbacks at their time.

A `threading.Timer` costs a thread per call; a streaming turn flushes its text about 25 times a
second and a process may run many turns, so they share one thread instead. The thread starts on
first use in each process (a forked Celery child starts its own; the parent's is not inherited).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Scheduled:
    """A pending call; `cancel` makes it a no-op if it has not started yet."""

    __slots__ = ("cancelled", "fn")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    def __init__(self, name: str) -> None:
        self._name = name
        self._pid = 0
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Scheduled]] = []
        self._start_lock = threading.Lock()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Scheduled:
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self._start()
        item = Scheduled(fn)
        with self._condition:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), item))
            self._condition.notify()
        return item

    def _start(self) -> None:
        # After a fork the old lock may be held by a thread that no longer exists: start afresh.
        self._condition, self._heap, self._pid = threading.Condition(), [], os.getpid()
        thread = threading.Thread(target=self._run, args=(self._condition,), name=self._name)
        thread.daemon = True
        thread.start()

    def _run(self, condition: threading.Condition) -> None:
        while True:
            with condition:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    condition.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _at, _order, item = heapq.heappop(self._heap)
            if item.cancelled:
                continue
            try:
                item.fn()
            except Exception:
                log.exception("%s: a scheduled call failed", self._name)

"""EventBus: how job events reach live views. In-process, or Redis in production."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import AsyncIterator
from typing import Protocol

from compymac_rx.jobs.events import JobEvent, UserEvent
from compymac_rx.settings import get_settings


class EventBus(Protocol):
    def next_seq(self, job_id: str, *, at_least: int, count: int = 1) -> int:
        """The first of the job's next `count` event numbers, never below `at_least`: they go
        on across a redelivered job's runs."""
        ...

    def publish(self, *events: JobEvent) -> None:
        """Deliver to live subscribers, together, and keep for replay. Safe from any thread."""
        ...

    def replay(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        """A job's kept events with seq > after_seq, in order. Blocks: not on the event loop."""
        ...

    async def areplay(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        """replay for the event loop: it awaits, never blocks."""
        ...

    def subscribe(self) -> AsyncIterator[JobEvent]:
        """Every event published from now on, on the caller's event loop."""
        ...

    def publish_user(self, event: UserEvent) -> None:
        """Deliver to the user's live tabs, wherever they are; nothing is kept. Safe from any
        thread; may block (not on the event loop); never raises for an unreachable bus."""
        ...

    def subscribe_users(self) -> AsyncIterator[UserEvent]:
        """Every user event published from now on, on the caller's event loop."""
        ...


class MemoryEventBus:
    """One process: jobs run in threads, subscribers are asyncio queues on their loops."""

    def __init__(self, *, replay_seconds: float) -> None:
        self._replay_seconds = replay_seconds
        self._lock = threading.Lock()
        self._kept: dict[str, list[JobEvent]] = {}
        self._expires: dict[str, float] = {}
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[JobEvent]]] = []
        self._seqs: dict[str, int] = {}
        self._user_subscribers: list[
            tuple[asyncio.AbstractEventLoop, asyncio.Queue[UserEvent]]
        ] = []

    def next_seq(self, job_id: str, *, at_least: int, count: int = 1) -> int:
        with self._lock:
            first = max(self._seqs.get(job_id, 0) + 1, at_least)
            self._seqs[job_id] = first + count - 1
            return first

    def publish(self, *events: JobEvent) -> None:
        now = time.monotonic()
        with self._lock:
            for event in events:
                self._kept.setdefault(event.job_id, []).append(event)
                if event.terminal:
                    self._expires[event.job_id] = now + self._replay_seconds
            for job_id in [j for j, at in self._expires.items() if at < now]:
                self._kept.pop(job_id, None)
                self._expires.pop(job_id, None)
                self._seqs.pop(job_id, None)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            if not loop.is_closed():
                # One callback for the batch: the subscriber takes it whole before a tab's
                # delivery runs, so the tab applies it in one state update.
                loop.call_soon_threadsafe(_put_all, queue, events)

    def replay(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        with self._lock:
            return [e for e in self._kept.get(job_id, []) if e.seq > after_seq]

    async def areplay(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        return self.replay(job_id, after_seq)  # a dict lookup under a lock held for microseconds

    async def subscribe(self) -> AsyncIterator[JobEvent]:
        entry = (asyncio.get_running_loop(), asyncio.Queue[JobEvent]())
        with self._lock:
            self._subscribers.append(entry)
        try:
            while True:
                yield await entry[1].get()
        finally:
            with self._lock:
                self._subscribers.remove(entry)

    def publish_user(self, event: UserEvent) -> None:
        with self._lock:
            subscribers = list(self._user_subscribers)
        for loop, queue in subscribers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, event)

    async def subscribe_users(self) -> AsyncIterator[UserEvent]:
        entry = (asyncio.get_running_loop(), asyncio.Queue[UserEvent]())
        with self._lock:
            self._user_subscribers.append(entry)
        try:
            while True:
                yield await entry[1].get()
        finally:
            with self._lock:
                self._user_subscribers.remove(entry)


def _put_all(queue: asyncio.Queue[JobEvent], events: tuple[JobEvent, ...]) -> None:
    for event in events:
        queue.put_nowait(event)


@functools.cache
def get_bus() -> EventBus:
    settings = get_settings()
    if settings.event_bus == "redis":
        from compymac_rx.jobs.redis_bus import RedisEventBus

        return RedisEventBus(settings.redis_url, replay_seconds=settings.event_replay_seconds)
    return MemoryEventBus(replay_seconds=settings.event_replay_seconds)

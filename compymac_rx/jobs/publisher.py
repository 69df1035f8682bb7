"""A job's events on their way to the bus: numbered, and text deltas coalesced at the source.

A model streams a token every few milliseconds; an event per token would cost every live view
a state update each. The publisher buffers the text and publishes it as one "delta" event at
most every STREAM_FLUSH_MS (a timer flushes trailing text, so none is held back), and always
before any other event, so the order the loop reported things in is the order tabs see.
"""

from __future__ import annotations

import threading
from typing import Any

from compymac_rx.jobs.bus import EventBus
from compymac_rx.jobs.events import JobEvent
from compymac_rx.jobs.models import JobRef
from compymac_rx.jobs.scheduler import Scheduled, Scheduler
from compymac_rx.settings import get_settings

FLUSHER = Scheduler("delta-flush")


class JobPublisher:
    """Thread-safe: the agent loop, the flush timer and a cancelling thread may all publish."""

    def __init__(self, bus: EventBus, job: JobRef, *, flush_seconds: float | None = None) -> None:
        self._bus = bus
        self._job_id, self._session_id, self._user_id = job.id, job.session_id, job.user_id
        self._seq = 0
        if flush_seconds is None:
            flush_seconds = get_settings().stream_flush_ms / 1000
        self._flush_seconds = flush_seconds
        # Held while publishing, so a timer flush and the loop's next event cannot swap places.
        self._lock = threading.Lock()
        self._text: list[str] = []
        self._timer: Scheduled | None = None

    def delta(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._text.append(text)
            if self._flush_seconds <= 0:
                self._flush_locked()
            elif self._timer is None:
                self._timer = FLUSHER.call_later(self._flush_seconds, self.flush)

    def publish(self, kind: str, **payload: Any) -> None:
        if kind == "delta":
            self.delta(str(payload.get("text", "")))
            return
        with self._lock:
            self._flush_locked()
            self._emit(kind, payload)

    def flush(self) -> None:
        """Publish the buffered text now (the timer calls this; so may the end of a turn)."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._text:
            text = "".join(self._text)
            self._text.clear()
            self._emit("delta", {"text": text})

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        # The bus hands out the number, so a redelivered job goes on after its first run's
        # events and a reconnecting tab neither misses nor repeats one.
        self._seq = self._bus.next_seq(self._job_id, at_least=self._seq + 1)
        self._bus.publish(
            JobEvent(self._job_id, self._session_id, self._user_id, self._seq, kind, payload)
        )

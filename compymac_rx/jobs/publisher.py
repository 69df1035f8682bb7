"""A job's events on their way to the bus: numbered, and published in batches.

A model streams a token every few milliseconds, and a quick turn reports "running", its text,
its reply and "done" within a few milliseconds; an event each would cost every live view a
state update each. The publisher keeps what the turn reports, in order (consecutive pieces of
one stream merged into one event: reply text into a "delta", reasoning into a "reasoning", one
tool call's argument text into a "tool_args"), and hands it to the bus as one batch: at most
STREAM_FLUSH_MS after the first kept event (a timer, so nothing is held back), and at once
when the turn ends. A tab applies a batch in one state update (state/live.py), so a quick turn
costs its tabs one.
"""

from __future__ import annotations

import threading
from typing import Any

from compymac_rx.jobs.bus import EventBus
from compymac_rx.jobs.events import TERMINAL_STATUSES, JobEvent
from compymac_rx.jobs.models import JobRef
from compymac_rx.jobs.scheduler import Scheduled, Scheduler
from compymac_rx.settings import get_settings

FLUSHER = Scheduler("event-flush")


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
        self._kept: list[tuple[str, dict[str, Any]]] = []
        # The run of pieces still open at the end of `_kept`: its kind and other payload
        # fields (a piece of another kind or call closes it), and its text so far.
        self._run: tuple[str, dict[str, Any]] | None = None
        self._text: list[str] = []
        self._timer: Scheduled | None = None

    def delta(self, text: str) -> None:
        self._piece("delta", text, {})

    def reasoning(self, text: str) -> None:
        self._piece("reasoning", text, {})

    def tool_args(self, call_id: str, tool: str, text: str) -> None:
        """A piece of a tool call's arguments as the model streams them; the first piece of
        a call (its name known, maybe no text yet) opens its card."""
        with self._lock:
            if self._run != ("tool_args", {"call_id": call_id, "tool": tool}) or text:
                self._piece_locked("tool_args", text, {"call_id": call_id, "tool": tool})

    def _piece(self, kind: str, text: str, fields: dict[str, Any]) -> None:
        if text:
            with self._lock:
                self._piece_locked(kind, text, fields)

    def _piece_locked(self, kind: str, text: str, fields: dict[str, Any]) -> None:
        if self._run != (kind, fields):
            self._close_text()
            self._run = (kind, fields)
        self._text.append(text)
        self._after_keep(end=False)

    def publish(self, kind: str, **payload: Any) -> None:
        """Keep an event; a terminal status publishes everything kept at once."""
        if kind == "delta":
            self.delta(str(payload.get("text", "")))
            return
        with self._lock:
            self._close_text()
            self._kept.append((kind, payload))
            end = kind == "status" and payload.get("status") in TERMINAL_STATUSES
            self._after_keep(end=end)

    def flush(self) -> None:
        """Publish what is kept now (the timer calls this; so may the end of a turn)."""
        with self._lock:
            self._flush_locked()

    def _after_keep(self, *, end: bool) -> None:
        if end or self._flush_seconds <= 0:
            self._flush_locked()
        elif self._timer is None:
            self._timer = FLUSHER.call_later(self._flush_seconds, self.flush)

    def _close_text(self) -> None:
        if self._run is not None:
            kind, fields = self._run
            self._kept.append((kind, {**fields, "text": "".join(self._text)}))
            self._text.clear()
            self._run = None

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._close_text()
        if not self._kept:
            return
        kept, self._kept = self._kept, []
        # The bus hands out the numbers, so a redelivered job goes on after its first run's
        # events and a reconnecting tab neither misses nor repeats one.
        first = self._bus.next_seq(self._job_id, at_least=self._seq + 1, count=len(kept))
        self._seq = first + len(kept) - 1
        self._bus.publish(
            *(
                JobEvent(self._job_id, self._session_id, self._user_id, first + i, kind, payload)
                for i, (kind, payload) in enumerate(kept)
            )
        )

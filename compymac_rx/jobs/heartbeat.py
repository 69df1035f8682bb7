"""A running job's heartbeat, written also while a long tool call runs.

The beats of every job in the process come from one scheduler thread, not a thread per turn:
most turns end before their first beat is due.
"""

from __future__ import annotations

import logging
import threading

from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.scheduler import Scheduled, Scheduler

log = logging.getLogger(__name__)

BEATS = Scheduler("job-heartbeat")


class Heartbeat:
    def __init__(self, job_id: str, interval: float) -> None:
        self._job_id, self._interval = job_id, interval
        self._lock = threading.Lock()
        self._stopped = False
        self._next: Scheduled | None = None

    def __enter__(self) -> Heartbeat:
        self._schedule()
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._stopped = True
            if self._next is not None:
                self._next.cancel()

    def _schedule(self) -> None:
        with self._lock:
            if not self._stopped:
                self._next = BEATS.call_later(self._interval, self._beat)

    def _beat(self) -> None:
        try:
            with session_scope() as db:
                repository.heartbeat(db, job_ids=[self._job_id], now=utcnow())
        except Exception:
            log.warning("heartbeat of job %s failed", self._job_id, exc_info=True)
        self._schedule()

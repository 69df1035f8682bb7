"""Whether a running job was asked to stop: one query for all the running jobs of a process.

Stop is a flag on the job's row, so it reaches a Celery worker as well as the web process. A
turn checks it on every model event; each turn used to read its own row every 0.2 s, which
with many turns at once was hundreds of small queries a second (bench/stream.py's profile).
Now one thread reads the flags of every watched job in one statement, and a turn's check is a
read of memory.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from compymac_rx.db import session_scope
from compymac_rx.jobs import repository

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2


class CancelFlags:
    def __init__(self, poll_seconds: float = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self._condition = threading.Condition()
        # job id -> (its flag, when the claim read it)
        self._flags: dict[str, tuple[threading.Event, float]] = {}
        self._pid = 0
        self._start_lock = threading.Lock()

    @contextmanager
    def watching(self, job_id: str, *, requested: bool = False) -> Iterator[threading.Event]:
        """The job's flag, set once its stop is asked for, for the length of the block.
        `requested`: what the claim just read."""
        flag = threading.Event()
        if requested:
            flag.set()
        if self._pid != os.getpid():
            self._start()
        with self._condition:
            if not self._flags:
                self._condition.notify()  # the poller waits for a first job
            self._flags[job_id] = (flag, time.monotonic())
        try:
            yield flag
        finally:
            with self._condition:
                self._flags.pop(job_id, None)

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # First use in this process. A forked Celery child starts its own thread, and a
            # fresh condition: the parent's may be held by a thread that does not exist here.
            self._condition, self._flags = threading.Condition(), {}
            threading.Thread(target=self._run, name="job-cancels", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        condition = self._condition
        while True:
            with condition:
                while not self._flags:
                    condition.wait()
                condition.wait(self.poll_seconds)
                # Every watch starts from a flag its claim has just read: a turn shorter than
                # one poll (most builtin ones) costs no query at all.
                due = time.monotonic() - self.poll_seconds
                watched = {job: flag for job, (flag, since) in self._flags.items() if since <= due}
            if not watched:
                continue
            try:
                with session_scope() as db:
                    asked = repository.cancels_requested(db, job_ids=list(watched))
            except Exception:
                log.warning("reading the stop flags of %d jobs failed", len(watched), exc_info=True)
                asked = set()
            for job_id in asked:
                watched[job_id].set()


CANCELS = CancelFlags()

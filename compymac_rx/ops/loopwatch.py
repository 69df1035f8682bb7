"""A watchdog that names the code holding the event loop when it stalls.

asyncio's debug mode warns about slow callbacks, but names only the task's outermost
coroutine (Reflex's event processor), never the line that blocked. This samples the loop
thread's stack from a side thread instead: when the loop has not ticked for
LOOP_STALL_WARN_MS, the stack is logged, and flagged when a frame of this app is on it.
The browser tests turn it on and fail on any stall inside this package.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback

log = logging.getLogger(__name__)

STALL_MARK = "event loop blocked"
_TICK_SECONDS = 0.005


class LoopWatch:
    def __init__(self, threshold_ms: int) -> None:
        self._threshold = threshold_ms / 1000
        self._beat = time.monotonic()
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()

    async def run(self) -> None:
        """The loop's side: tick while the loop is free. Runs until cancelled."""
        self._loop_thread = threading.get_ident()
        watcher = threading.Thread(target=self._watch, name="loop-watch", daemon=True)
        watcher.start()
        try:
            while True:
                self._beat = time.monotonic()
                await asyncio.sleep(_TICK_SECONDS)
        finally:
            self._stop.set()

    def _watch(self) -> None:
        reported_for = 0.0
        while not self._stop.wait(_TICK_SECONDS):
            beat = self._beat
            stalled = time.monotonic() - beat
            if stalled < self._threshold or beat == reported_for:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            reported_for = beat
            stack = traceback.extract_stack(frame)
            ours = [f for f in stack if "/compymac_rx/" in f.filename]
            where = "in this app" if ours else "outside this app"
            frames = "".join(traceback.format_list(stack[-12:]))
            log.warning("%s for %d ms+ %s:\n%s", STALL_MARK, stalled * 1000, where, frames)


async def watch_loop(threshold_ms: int) -> None:
    if threshold_ms > 0:
        await LoopWatch(threshold_ms).run()

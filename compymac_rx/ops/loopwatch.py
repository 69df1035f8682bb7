"""A watchdog that names the code holding the event loop when it stalls.

asyncio's debug mode warns about slow callbacks, but names only the task's outermost
coroutine (Reflex's event processor), never the line that blocked. This samples the loop
thread's stack from a side thread instead: when the loop has not ticked for
LOOP_STALL_WARN_MS, the stack is logged, and flagged when a frame of this app is on it.
The browser tests turn it on and fail on any stall inside this package.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import threading
import time
import traceback
from types import FrameType

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
            if frame is None or frame.f_code.co_filename == __file__:
                continue
            stack = traceback.extract_stack(frame)
            where = "in this app" if _app_is_blocking(frame) else "outside this app"
            frames = "".join(traceback.format_list(stack[-12:]))
            del frame
            if self._beat != beat:
                continue  # the loop moved on while we looked: the sample may be of later code
            reported_for = beat
            log.warning("%s for %d ms+ %s:\n%s", STALL_MARK, stalled * 1000, where, frames)


_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


def _app_is_blocking(innermost: FrameType) -> bool:
    """The innermost frame of ours runs synchronous code. A coroutine of ours whose callee is
    itself a coroutine only awaits (a middleware passing a request on, say): what blocks is
    the awaited code, which is not ours."""
    callee: FrameType | None = None
    frame: FrameType | None = innermost
    while frame is not None:
        if "/compymac_rx/" in frame.f_code.co_filename:
            awaiting = (
                callee is not None
                and frame.f_code.co_flags & _ASYNC_CODE
                and callee.f_code.co_flags & _ASYNC_CODE
            )
            return not awaiting
        callee, frame = frame, frame.f_back
    return False


async def watch_loop(threshold_ms: int) -> None:
    if threshold_ms > 0:
        await LoopWatch(threshold_ms).run()

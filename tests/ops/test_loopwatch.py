"""The loop watchdog names the code that held the event loop, and says whose it was."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from compymac_rx.ops.loopwatch import STALL_MARK, LoopWatch

# Code that claims to live in the app: the watchdog attributes frames by their file name.
APP_CODE = compile("import time\ntime.sleep(0.15)\n", "/srv/compymac_rx/blocking.py", "exec")


async def _with_watch(block: object, caplog: pytest.LogCaptureFixture) -> list[str]:
    watch = asyncio.create_task(LoopWatch(threshold_ms=50).run())
    await asyncio.sleep(0.02)
    with caplog.at_level(logging.WARNING, logger="compymac_rx.ops.loopwatch"):
        if callable(block):
            block()
        else:
            exec(block)
        await asyncio.sleep(0.05)
    watch.cancel()
    return [r.getMessage() for r in caplog.records if STALL_MARK in r.getMessage()]


async def test_a_stall_in_app_code_is_reported_as_the_apps(caplog) -> None:
    (message,) = await _with_watch(APP_CODE, caplog)
    assert "in this app" in message and "/srv/compymac_rx/blocking.py" in message


async def test_a_stall_elsewhere_is_reported_as_not_the_apps(caplog) -> None:
    (message,) = await _with_watch(lambda: time.sleep(0.15), caplog)
    assert "outside this app" in message


async def test_a_free_loop_reports_nothing(caplog) -> None:
    assert await _with_watch(lambda: time.sleep(0.01), caplog) == []

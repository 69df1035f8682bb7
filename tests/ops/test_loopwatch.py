"""The loop watchdog names the code that held the event loop, and says whose it was."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from compymac_rx.ops.loopwatch import STALL_MARK, LoopWatch

# Code that claims to live in the app: the watchdog attributes frames by their file name.
APP_CODE = compile("import time\ntime.sleep(0.15)\n", "/srv/compymac_rx/blocking.py", "exec")


# App code that only awaits: what blocks is the awaited coroutine's, not the app's.
AWAITING_CODE = compile(
    "async def passes_on(inner):\n    await inner()\n", "/srv/compymac_rx/middleware.py", "exec"
)


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
    messages = await _with_watch(APP_CODE, caplog)
    # A loaded machine may add stalls of its own; the one we caused must be among them.
    assert any("in this app" in m and "/srv/compymac_rx/blocking.py" in m for m in messages)


async def test_a_stall_elsewhere_is_reported_as_not_the_apps(caplog) -> None:
    messages = await _with_watch(lambda: time.sleep(0.15), caplog)
    assert any("outside this app" in m and "test_loopwatch.py" in m for m in messages)
    assert not any("in this app" in m for m in messages)


async def test_a_free_loop_reports_nothing(caplog) -> None:
    messages = await _with_watch(lambda: time.sleep(0.01), caplog)
    assert not any("in this app" in m for m in messages)


async def test_app_code_that_only_awaits_is_not_blamed(caplog) -> None:
    namespace: dict[str, object] = {}
    exec(AWAITING_CODE, namespace)

    async def blocking_library_code() -> None:
        time.sleep(0.15)  # noqa: ASYNC251 (the point: a library coroutine that blocks)

    watch = asyncio.create_task(LoopWatch(threshold_ms=50).run())
    await asyncio.sleep(0.02)
    with caplog.at_level(logging.WARNING, logger="compymac_rx.ops.loopwatch"):
        await namespace["passes_on"](blocking_library_code)  # type: ignore[operator]
        await asyncio.sleep(0.05)
    watch.cancel()
    messages = [r.getMessage() for r in caplog.records if STALL_MARK in r.getMessage()]
    assert any("/srv/compymac_rx/middleware.py" in m for m in messages)  # it was on the stack
    assert not any("in this app" in m for m in messages)

"""Waiting in tests: poll a condition against a deadline instead of sleeping a fixed time.

A fixed sleep is either too short on a loaded 2-core machine (a flaky failure) or longer than
needed everywhere else (a slow suite). `wait_until` returns as soon as the condition holds and
fails with a message when the deadline passes. `stays_true` is for the other kind of check,
"this must not happen": it watches the whole window and fails at the first violation, so the
window is a documented bound, not a guess at how long something takes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    """The first truthy value of `predicate()`; AssertionError when none came in `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true after {timeout} s: {what or predicate!r}")
        time.sleep(interval)


async def await_until(
    predicate: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "",
) -> T:
    """`wait_until` for a coroutine: the loop keeps running between checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true after {timeout} s: {what or predicate!r}")
        await asyncio.sleep(interval)


def stays_true(
    predicate: Callable[[], object], *, seconds: float, interval: float = 0.05, what: str = ""
) -> None:
    """Fail as soon as `predicate()` is falsy during the next `seconds` seconds."""
    deadline = time.monotonic() + seconds
    while True:
        assert predicate(), f"stopped being true: {what or predicate!r}"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)

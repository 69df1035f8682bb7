"""Run blocking work (database, files, hashing, HTTP) off the asyncio event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# One pool for the process: the loop only waits on it. Threads start lazily.
_EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="off-loop")


async def off_loop(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Await `fn(*args, **kwargs)` run in a worker thread, with the caller's contextvars."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, call)

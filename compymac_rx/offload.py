"""The one way async code waits for blocking work: database, files, Redis, HTTP, subprocess.

Reflex runs every handler (sync ones too) on the event loop, so a blocking call there stalls
every tab of the process. Handlers, lifespan tasks and Starlette routes await `off_loop`
instead. A pool of our own keeps a slow provider or issuer from starving asyncio's default
executor, which Reflex and Starlette use for their own work.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# Threads mostly wait on I/O; enough that a few hung HTTP calls leave room for the rest.
_POOL_THREADS = 32


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_POOL_THREADS, thread_name_prefix="off-loop")


async def off_loop(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `fn(*args, **kwargs)` on a worker thread and await its result.

    The caller's context variables go along, so what a handler set for this event (the
    signed-in user, logging context) is visible to the work it hands off.
    """
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool(), call)

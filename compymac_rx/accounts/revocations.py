"""A counter of sign-ins ended (or users changed) in this process.

Caches of "the user behind this cookie" (identity/cache.py) drop what they hold when it
moves, so a change made here takes effect at once; one made by another process takes effect
when the cache entry expires (AUTH_CACHE_SECONDS).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_counter = itertools.count(1)
_epoch = 0


def epoch() -> int:
    return _epoch


def changes_sessions(fn: Callable[P, R]) -> Callable[P, R]:
    """Move the counter after `fn` returns: its transaction has committed by then."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        global _epoch
        try:
            return fn(*args, **kwargs)
        finally:
            _epoch = next(_counter)

    return wrapper

"""The user behind a session cookie, remembered for a few seconds.

Every WebSocket event needs the signed-in user. Resolving it is a database read (and, for an
issuer-backed session, sometimes a token refresh), so the answer is kept for
AUTH_CACHE_SECONDS: a session ended in another process takes effect at most that long
later; one ended in this process (sign-out, back-channel logout, a disabled user) at once.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time

from compymac_rx.accounts import revocations
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.settings import get_settings

_MAX_ENTRIES = 10_000


class UserCache:
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, int, CurrentUser | None]] = {}

    def cached(self, token: str | None) -> tuple[bool, CurrentUser | None]:
        """(True, user) when the answer is known without a lookup. Never blocks (one dict read,
        atomic under the GIL), so the event loop calls it and goes off the loop only on a miss."""
        if not token:
            return True, None
        hit = self._entries.get(_key(token))
        if hit is not None and hit[0] > time.monotonic() and hit[1] == revocations.epoch():
            return True, hit[2]
        return False, None

    def resolve(self, token: str | None) -> CurrentUser | None:
        """Blocking: call it off the event loop."""
        if not token:
            return None
        key = _key(token)
        now, seen = time.monotonic(), revocations.epoch()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now and hit[1] == seen:
            return hit[2]
        user = get_identity_provider().current_user(token)
        if self._ttl > 0:
            with self._lock:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                    if len(self._entries) >= _MAX_ENTRIES:
                        self._entries.clear()
                # Stamped with the counter read before the lookup: an ending that lands
                # meanwhile makes this entry stale at once.
                self._entries[key] = (now + self._ttl, seen, user)
        return user


def _key(token: str) -> str:
    # A hash: the cache never holds a usable token.
    return hashlib.sha256(token.encode()).hexdigest()


@functools.cache
def get_user_cache() -> UserCache:
    return UserCache(get_settings().auth_cache_seconds)

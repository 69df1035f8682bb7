"""Stop for model streams that wait on the provider, with one thread for all of them.

A turn reads its model stream on its own job thread. When the provider sends nothing (a stalled
connection, a slow first token) that thread sits in `recv`, and Stop must still work. Before,
each stream had a reader thread handing every token over a queue: two threads and two GIL
hand-offs per token, which under many concurrent streams cost more than the parsing. Now one
watcher polls every stream's stop check and, on Stop, shuts its socket down: the blocked `recv`
returns at once and the job thread ends the stream.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.25

StopCheck = Callable[[], bool]


def response_socket(http_response: Any) -> socket.socket | None:
    """The socket under an httpx response, if its transport exposes one (httpcore does)."""
    stream = http_response.extensions.get("network_stream")
    found = stream.get_extra_info("socket") if stream is not None else None
    return found if isinstance(found, socket.socket) else None


def shut(sock: socket.socket) -> None:
    """Wake a `recv` blocked on `sock` in another thread (close() alone does not)."""
    # Already closed: the read has ended anyway. The plain socket's method: an SSLSocket's
    # own would drop its TLS state under the reading thread's feet.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class StopWatch:
    def __init__(self, interval: float = WATCH_SECONDS) -> None:
        self._interval = interval
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[StopCheck, socket.socket]] = {}
        self._next = 0
        self._pid = 0

    def watch(self, should_stop: StopCheck, sock: socket.socket) -> Callable[[], None]:
        """Shut `sock` down once `should_stop()` is true; returns the call that stops watching."""
        with self._lock:
            if self._pid != os.getpid():
                # First use in this process (a forked Celery child starts its own thread).
                self._pid, self._watched = os.getpid(), {}
                threading.Thread(target=self._run, name="model-stop-watch", daemon=True).start()
            self._next += 1
            key = self._next
            self._watched[key] = (should_stop, sock)

        def unwatch() -> None:
            with self._lock:
                self._watched.pop(key, None)

        return unwatch

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self._interval):
            with self._lock:
                entries = list(self._watched.items())
            for key, (should_stop, sock) in entries:
                try:
                    stopping = should_stop()
                except Exception:
                    log.exception("a stop check failed")
                    continue
                if stopping:
                    with self._lock:
                        self._watched.pop(key, None)
                    shut(sock)


STOPS = StopWatch()

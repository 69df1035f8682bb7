"""A slow dependency holds up only the tab that waits on it: nothing blocks the event loop.

One user saves a provider key against a server that drips one byte a second, so the key check
hangs; meanwhile another user's turns must take as long as they did before it started.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bench.chat import ChatTab, new_session, sign_up
from bench.wire import ReflexTab, delta_vars
from tests.e2e.conftest import free_port, run_app

TURNS = 7
# What a stalled event loop would add at least (one drip is a second); noise stays well below.
ALLOWED_DELAY = 0.1


class DripServer:
    """Accepts HTTP requests and answers one byte per second, for at most `seconds`."""

    def __init__(self, seconds: float) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._until = time.monotonic() + seconds
        self.requests = 0
        self.open_requests = 0
        self._lock = threading.Lock()

    def serve(self) -> None:
        self._listener.settimeout(0.2)
        while time.monotonic() < self._until:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with self._lock:
            self.requests += 1
            self.open_requests += 1
        try:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n":
                if time.monotonic() >= self._until:
                    break
                conn.sendall(bytes([byte]))
                time.sleep(1)
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self.open_requests -= 1

    def close(self) -> None:
        self._until = 0
        self._listener.close()


@contextmanager
def drip_server(seconds: float) -> Iterator[DripServer]:
    server = DripServer(seconds)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(5)


async def _settings_tab(base: str, cookie: str) -> tuple[ReflexTab, str]:
    tab = await ReflexTab.open(base, cookie, "/settings")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        delta = await tab.next_delta(deadline - time.monotonic())
        for state, name, value in delta_vars(delta):
            if state.endswith("settings____settings_state") and name == "choices" and value:
                return tab, state
    raise TimeoutError("the settings page did not load")


async def _turn_times(tab: ChatTab) -> list[float]:
    return [(await tab.turn("help")).done for _ in range(TURNS)]


async def _scenario(base: str, drip: DripServer) -> tuple[list[float], list[float]]:
    slow_cookie = await sign_up(base, "slow")
    fast_cookie = await sign_up(base, "fast")
    fast = await ChatTab.open(base, fast_cookie, await asyncio.to_thread(new_session, fast_cookie))
    settings, state = await _settings_tab(base, slow_cookie)
    await fast.turn("help")  # warm up
    before = await _turn_times(fast)
    form = {"api_key": "sk-drip-0123456789abcdef", "base_url": ""}
    await settings.emit(f"{state}.save", {"form": form})
    for _ in range(600):  # up to 30 s for the check to reach the drip
        if drip.open_requests:
            break
        await asyncio.sleep(0.05)
    assert drip.open_requests == 1, "the key check never reached the dripping server"
    during = await _turn_times(fast)
    # Positive control: the key check was still waiting on the drip the whole time.
    assert drip.open_requests == 1
    await fast.close()
    await settings.close()
    return before, during


def test_a_dripping_provider_does_not_delay_another_users_turns(data_dir: Path) -> None:
    with drip_server(seconds=90) as drip:
        extra = {
            "PROVIDER_OPENAI_URL": drip.url,
            "MODEL_TIMEOUT_SECONDS": "60",
            "MODEL_MAX_RETRIES": "0",
            "SIGNUPS_PER_HOUR_PER_IP": "1000",
            "MESSAGES_PER_MINUTE": "1000",
        }
        # Its own thread: the session's sync Playwright keeps a loop on this one.
        with run_app(data_dir, free_port(), extra) as app, ThreadPoolExecutor(1) as pool:
            before, during = pool.submit(asyncio.run, _scenario(app.url, drip)).result()
    delay = statistics.median(during) - statistics.median(before)
    assert delay < ALLOWED_DELAY, f"before {before}, during {during}"

"""Figures at scale: a 1,000-session sidebar, a 10,000-message session, 1,000 idle tabs.

    .venv/bin/python -m bench.scale                       # inline profile
    .venv/bin/python -m bench.scale --tabs 200 --sessions 300 --messages 2000

- sidebar: one user with `--sessions` sessions. Server time = listing them and building the
  sidebar's view in-process against the app's database (median of 20); round trip = a tab
  opening `/` until the first delta carrying the `sessions` list (median of 5).
- open session: one session with `--messages` messages (inserted in one statement); a tab
  opening `/s/<id>` until the frame that carries the newest message (median of 5); plus the
  in-process time of loading its newest page.
- idle tabs: RSS of the backend's process tree before and after `--tabs` signed-in tabs have
  each loaded a session page and stay connected (answering pings); per tab = growth / tabs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psutil

from bench.apps import Running, running
from bench.chat import ChatTab, new_session, sign_up, user_id_of
from bench.wire import ReflexTab, find_var


def median_ms(fn: Callable[[], object], times: int = 20) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
    return total


# --- seeding (in-process, the app's own services and tables) ----------------------------------


def seed_sessions(user_id: str, count: int) -> None:
    from compymac_rx.chats import service as chats

    for _ in range(count):
        chats.create_session(user_id)


def seed_messages(user_id: str, session_id: str, count: int, marker: str) -> None:
    """`count` messages in one INSERT; the newest one carries `marker`."""
    from sqlalchemy import insert

    from compymac_rx.chats.models import Message
    from compymac_rx.db import session_scope, utcnow

    start = utcnow() - timedelta(seconds=count)
    filler = "Some words of a longer reply, the size of a short paragraph. " * 4
    rows: list[dict[str, object]] = [
        {
            "session_id": session_id,
            "user_id": user_id,
            "seq": seq,
            "role": "user" if seq % 2 else "assistant",
            "content": f"message {seq}: {filler}" + (marker if seq == count else ""),
            "meta": {},
            "created_at": start + timedelta(seconds=seq),
        }
        for seq in range(1, count + 1)
    ]
    with session_scope() as db:
        db.execute(insert(Message), rows)


def sidebar_server_ms(user_id: str) -> float:
    from compymac_rx.chats import service as chats
    from compymac_rx.db import utcnow
    from compymac_rx.state.views import session_item

    def build() -> object:
        now = utcnow()
        return [session_item(row, now) for row in chats.list_sessions(user_id)]

    return median_ms(build)


def newest_page_ms(user_id: str, session_id: str) -> float:
    from compymac_rx.chats import service as chats
    from compymac_rx.state.views import message_view

    return median_ms(lambda: [message_view(m) for m in chats.load_messages(user_id, session_id)])


# --- over the wire ----------------------------------------------------------------------------


async def sidebar_round_trip(base: str, cookie: str) -> tuple[float, int]:
    """(ms from connecting to the delta with the sessions list, how many it lists)."""
    started = time.perf_counter()
    tab = await ReflexTab.open(base, cookie, "/")
    try:
        while True:
            found = find_var(await tab.next_delta(60), "sessions")
            if found is not None and found[1]:
                return (time.perf_counter() - started) * 1000, len(found[1])
    finally:
        await tab.close()


async def open_session_round_trip(base: str, cookie: str, session_id: str, marker: str) -> float:
    started = time.perf_counter()
    tab = await ReflexTab.open(base, cookie, f"/s/{session_id}")
    try:
        while marker not in tab.socket.last_text:
            await tab.next_delta(60)
        return (time.perf_counter() - started) * 1000
    finally:
        await tab.close()


async def keep_alive(tab: ChatTab) -> None:
    """Read (and answer pings) until the tab is closed."""
    with contextlib.suppress(Exception):
        while True:
            await tab.tab.socket.next_event(3600)


async def idle_tabs(app: Running, tabs: int, users: int = 10) -> tuple[int, int, int]:
    """(RSS before, RSS after, tabs opened) of the backend with `tabs` idle signed-in tabs."""
    cookies = [await sign_up(app.url, f"tabs{u}") for u in range(users)]
    sessions = [await asyncio.to_thread(new_session, c) for c in cookies]
    warm = await ChatTab.open(app.url, cookies[0], sessions[0])
    await warm.close()
    await asyncio.sleep(2)
    before = rss_bytes(app.pids)
    gate = asyncio.Semaphore(20)
    opened: list[ChatTab] = []
    readers: list[asyncio.Task[None]] = []

    async def open_one(index: int) -> None:
        async with gate:
            tab = await ChatTab.open(app.url, cookies[index % users], sessions[index % users])
            opened.append(tab)
            readers.append(asyncio.create_task(keep_alive(tab)))

    try:
        await asyncio.wait_for(asyncio.gather(*(open_one(i) for i in range(tabs))), 600)
        await asyncio.sleep(5)
        after = rss_bytes(app.pids)
    finally:
        for task in readers:
            task.cancel()
        for tab in opened:
            with contextlib.suppress(Exception):
                await tab.close()
    return before, after, len(opened)


async def measure(app: Running, sessions: int, messages: int, tabs: int) -> list[str]:
    lines = [f"scale ({app.kind} profile):"]
    cookie = await sign_up(app.url, "scale")
    user_id = await asyncio.to_thread(user_id_of, cookie)
    await asyncio.to_thread(seed_sessions, user_id, sessions)
    server = await asyncio.to_thread(sidebar_server_ms, user_id)
    trips = [await sidebar_round_trip(app.url, cookie) for _ in range(5)]
    shown = trips[0][1]
    lines.append(
        f"  sidebar, {sessions} sessions: server {server:.1f} ms (list + view, median; "
        f"target < 50), page round trip {statistics.median(t for t, _n in trips):.1f} ms "
        f"({shown} listed)"
    )
    marker = f"newest-{secrets.token_hex(6)}"
    session_id = await asyncio.to_thread(new_session, cookie)
    await asyncio.to_thread(seed_messages, user_id, session_id, messages, marker)
    page = await asyncio.to_thread(newest_page_ms, user_id, session_id)
    opens = [await open_session_round_trip(app.url, cookie, session_id, marker) for _ in range(5)]
    lines.append(
        f"  open a session with {messages} messages: newest page in the tab "
        f"{statistics.median(opens):.1f} ms (median of 5; target < 200), server page load "
        f"{page:.1f} ms"
    )
    before, after, opened = await idle_tabs(app, tabs)
    per_tab = (after - before) / max(1, opened) / 1024
    lines.append(
        f"  idle tabs: {opened} open, backend RSS {before / 2**20:.0f} -> "
        f"{after / 2**20:.0f} MiB = {per_tab:.0f} KB per tab (target < 100)"
    )
    for line in lines[1:]:
        print(line, flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", default="inline")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--tabs", type=int, default=1000)
    args = parser.parse_args()
    out: list[str] = []
    for kind in args.profiles.split(","):
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-scale-{kind}-") as tmp,
            running(kind, Path(tmp)) as app,
        ):
            out += asyncio.run(measure(app, args.sessions, args.messages, args.tabs))
    print("\n".join(["", *out]))


if __name__ == "__main__":
    main()

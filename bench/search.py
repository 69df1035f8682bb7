"""Search latency at scale: one user's 10,000 sessions x 50 messages, through the service.

Seeds the data with Core inserts (the search indexes are kept by the database, as in
production: FTS5 triggers on SQLite, generated tsvector columns on PostgreSQL), plus a second
user with a tenth as much (their rows share the index; none may show up). Then runs a mix of
queries through `search.service.search` (match, rank, one hit per session, snippets) and
prints p50/p95/max per kind of query: wall time, and CPU time (this process plus, on
PostgreSQL, the server's backends), which a machine shared with other work inflates less.

Run: .venv/bin/python -m bench.search [--postgres] [sessions [messages_per_session]]
BENCH_SEARCH_DATA=<folder> (SQLite): seed once into that folder, reuse it on later runs.
BENCH_SEARCH_DATABASE_URL=<postgresql url>: a database this bench seeded before (migrated to
head here): measure without seeding again.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.apps import on_chosen_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VOCABULARY = 20_000
WORDS_PER_MESSAGE = 30
QUERIES_PER_KIND = 60


def word(n: int) -> str:
    # Pronounceable synthetic words: w0 is the most frequent (Zipf-like draw below).
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "gu"]
    out = ""
    n += 1
    while n:
        n, digit = divmod(n, 10)
        out += syllables[digit]
    return out


def main() -> None:
    reuse = os.environ.get("BENCH_SEARCH_DATABASE_URL", "")
    if reuse:
        os.environ["DATABASE_URL"] = reuse
        measure(sys.argv[1:], "PostgreSQL")
        return
    on_chosen_database(measure, "bench-search")


def server_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server's client backends so far (0 on SQLite)."""
    import psutil
    import sqlalchemy as sa

    from compymac_rx.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "sqlite":
        return 0.0
    global _postmaster
    if _postmaster is None:
        with engine.connect() as c:
            backend = int(c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        _postmaster = psutil.Process(backend).parent()
    total = 0.0
    for child in _postmaster.children():
        try:
            if not " ".join(child.cmdline()).startswith("postgres: postgres "):
                continue  # background workers: autovacuum, checkpointer, ...
            # Nanoseconds on the CPU (psutil's cpu_times count 10 ms ticks).
            total += int(Path(f"/proc/{child.pid}/schedstat").read_text().split()[0]) / 1e9
        except (psutil.NoSuchProcess, FileNotFoundError):
            continue
    return total


_postmaster: Any = None


def seed(user_id: str, sessions: int, per_session: int, rng: random.Random) -> None:
    import sqlalchemy as sa

    from compymac_rx.chats.models import AgentSession, Message
    from compymac_rx.db import get_engine, new_id, utcnow

    weights = [1 / (rank + 1) for rank in range(VOCABULARY)]
    vocabulary = [word(n) for n in range(VOCABULARY)]
    start = utcnow() - timedelta(days=365)
    session_rows, message_rows = [], []
    engine = get_engine()
    for s in range(sessions):
        session_id = new_id()
        when = start + timedelta(minutes=s)
        title = " ".join(rng.choices(vocabulary, weights, k=4))
        session_rows.append(
            {
                "id": session_id,
                "user_id": user_id,
                "title": title,
                "title_is_auto": True,
                "workspace_path": f"/nonexistent/{session_id}",
                "archived": s % 10 == 0,
                "model": "",
                "created_at": when,
                "last_activity_at": when,
            }
        )
        for m in range(per_session):
            message_rows.append(
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "seq": m + 1,
                    "role": "user" if m % 2 == 0 else "assistant",
                    "content": " ".join(rng.choices(vocabulary, weights, k=WORDS_PER_MESSAGE)),
                    "meta": {},
                    "job_id": None,
                    "job_step": None,
                    "created_at": when,
                }
            )
        if len(message_rows) >= 20_000 or s == sessions - 1:
            with engine.begin() as connection:
                connection.execute(sa.insert(AgentSession.__table__), session_rows)  # type: ignore[attr-defined]
                connection.execute(sa.insert(Message.__table__), message_rows)  # type: ignore[attr-defined]
            session_rows, message_rows = [], []


def measure(args: list[str], database: str) -> None:
    sessions = int(args[0]) if args else 10_000
    per_session = int(args[1]) if len(args) > 1 else 50
    reuse = os.environ.get("BENCH_SEARCH_DATA", "") if database == "SQLite" else ""
    reuse_pg = os.environ.get("BENCH_SEARCH_DATABASE_URL", "") if database != "SQLite" else ""
    data = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="bench-search-"))
    data.mkdir(parents=True, exist_ok=True)
    os.environ["DATA_DIR"] = str(data)
    from alembic import command
    from alembic.config import Config

    from compymac_rx.search import service as search
    from tests.factories import make_user

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    rng = random.Random(7)
    marker = data / "bench-user"
    began = time.perf_counter()
    if reuse and marker.exists():
        user_id = marker.read_text()
    elif reuse_pg:
        import sqlalchemy as sa

        from compymac_rx.db import get_engine

        with get_engine().connect() as c:
            user_id = c.execute(
                sa.text(
                    "SELECT user_id FROM agent_sessions GROUP BY user_id"
                    " ORDER BY count(*) DESC LIMIT 1"
                )
            ).scalar_one()
    else:
        user_id, other_id = make_user().id, make_user().id
        seed(user_id, sessions, per_session, rng)
        seed(other_id, max(1, sessions // 10), per_session, rng)
        marker.write_text(user_id)
    if database == "PostgreSQL" and not reuse_pg:
        # What autovacuum does after a bulk load: the planner's row estimates need it.
        import sqlalchemy as sa

        from compymac_rx.db import get_engine

        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE"))
    seeded = time.perf_counter() - began
    total = sessions * per_session
    print(
        f"search, {database}: {sessions:,} sessions x {per_session} messages "
        f"({total:,} messages, + {total // 10:,} of another user); seeded in {seeded:.0f} s"
    )
    kinds = {
        "rare word": lambda: word(rng.randrange(5_000, VOCABULARY)),
        "mid word": lambda: word(rng.randrange(200, 2_000)),
        "common word": lambda: word(rng.randrange(0, 20)),
        "two words": lambda: f"{word(rng.randrange(50, 2_000))} {word(rng.randrange(50, 2_000))}",
        "prefix (typing)": lambda: word(rng.randrange(200, VOCABULARY))[:4],
        "no match": lambda: "zzzqqq" + str(rng.randrange(10_000)),
    }
    search.search(user_id, "warm up")
    every: list[float] = []
    every_cpu: list[float] = []
    print(f"  load average at the start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    print(
        f"  {'query':16} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'hits':>5}"
        f" {'cpu p50':>8} {'cpu p95':>8}"
    )
    for kind, make in kinds.items():
        times, cpu, hits = [], [], 0
        for n in range(QUERIES_PER_KIND):
            text = make()
            c0, s0 = time.process_time(), server_cpu_seconds()
            t0 = time.perf_counter()
            found = search.search(user_id, text, include_archived=n % 2 == 0)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0 + server_cpu_seconds() - s0) * 1000)
            hits += len(found)
            assert all(h.session_id for h in found)
        every += times
        every_cpu += cpu
        print(
            f"  {kind:16} {statistics.median(times):7.1f} {p95(times):7.1f} {max(times):7.1f} "
            f"{hits // QUERIES_PER_KIND:5} {statistics.median(cpu):8.1f} {p95(cpu):8.1f}"
        )
    print(
        f"  {'all':16} {statistics.median(every):7.1f} {p95(every):7.1f} {max(every):7.1f} "
        f"{'':5} {statistics.median(every_cpu):8.1f} {p95(every_cpu):8.1f}"
    )
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


if __name__ == "__main__":
    main()

"""The admin usage dashboard at scale: 1,000 users, 1,000,000 messages, 250,000 turns.

Seeds with Core inserts (users with a placeholder hash, ten sessions each, one turn per four
messages spread over 90 days with models, tokens, tool runs and some failures), analyzes on
PostgreSQL as autovacuum would, then times `usage.service.dashboard` (every query the page
runs, as the admin page calls it) over 7, 30 and 90 days, and each query alone.

Run: .venv/bin/python -m bench.usage [--postgres] [users [messages]]
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from bench.apps import on_chosen_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = 20
MODELS = ("builtin", "gpt-4.1-mini", "gpt-4.1", "llama-3.1-70b")
DAYS = 90


def main() -> None:
    on_chosen_database(measure, "bench-usage")


def seed(users: int, messages: int, rng: random.Random) -> None:
    import sqlalchemy as sa

    from compymac_rx.accounts.models import User
    from compymac_rx.chats.models import AgentSession, Message
    from compymac_rx.db import get_engine, new_id, utcnow
    from compymac_rx.jobs.models import Job

    engine = get_engine()
    now = utcnow()
    user_ids = [new_id() for _ in range(users)]
    with engine.begin() as c:
        c.execute(
            sa.insert(User.__table__),  # type: ignore[attr-defined]
            [
                {"id": uid, "email": f"u{n}@bench.example", "password_hash": "x", "is_admin": False}
                for n, uid in enumerate(user_ids)
            ],
        )
    sessions = [(new_id(), uid) for uid in user_ids for _ in range(10)]
    with engine.begin() as c:
        c.execute(
            sa.insert(AgentSession.__table__),  # type: ignore[attr-defined]
            [
                {"id": sid, "user_id": uid, "workspace_path": "/nonexistent"}
                for sid, uid in sessions
            ],
        )
    per_session = messages // len(sessions)
    job_rows: list[dict[str, object]] = []
    message_rows: list[dict[str, object]] = []
    for index, (session_id, user_id) in enumerate(sessions):
        for m in range(per_session):
            when = now - timedelta(seconds=rng.randrange(DAYS * 86400))
            job_id = None
            if m % 4 == 0:
                job_id = new_id()
                model = rng.choice(MODELS)
                tokens = 0 if model == "builtin" else rng.randrange(200, 8000)
                job_rows.append(
                    {
                        "id": job_id,
                        "session_id": session_id,
                        "user_id": user_id,
                        "status": "failed" if rng.random() < 0.05 else "done",
                        "created_at": when,
                        "model": model,
                        "prompt_tokens": tokens,
                        "completion_tokens": tokens // 4,
                        "tool_runs": rng.randrange(0, 6),
                    }
                )
            message_rows.append(
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "seq": m + 1,
                    "role": "user" if m % 2 == 0 else "assistant",
                    "content": "word " * rng.randrange(5, 80),
                    "meta": {},
                    "job_id": job_id,
                    "job_step": None,
                    "created_at": when,
                }
            )
        if len(message_rows) >= 50_000 or index == len(sessions) - 1:
            with engine.begin() as c:
                c.execute(sa.insert(Job.__table__), job_rows)  # type: ignore[attr-defined]
                c.execute(sa.insert(Message.__table__), message_rows)  # type: ignore[attr-defined]
            job_rows, message_rows = [], []


def seed_postgres(users: int, messages: int) -> None:
    """The same data as `seed`, generated inside PostgreSQL (generate_series): minutes faster
    than sending a million rows from Python. The storage triggers still run per row."""
    import sqlalchemy as sa

    from compymac_rx.db import get_engine

    per_session = messages // (users * 10)
    models = ", ".join(f"'{m}'" for m in MODELS)
    statements = [
        "INSERT INTO users (id, email, password_hash, display_name, is_admin, is_active,"
        " created_at) SELECT md5('u' || g), 'u' || g || '@bench.example', 'x', '', false,"
        " true, now() FROM generate_series(1, :users) g",
        "INSERT INTO agent_sessions (id, user_id, title, title_is_auto, workspace_path,"
        " archived, model, created_at, last_activity_at) SELECT md5('s' || g),"
        " md5('u' || ((g - 1) / 10 + 1)), 'bench', true, '/nonexistent', false, '', now(),"
        " now() FROM generate_series(1, :users * 10) g",
        # Message g: session (g-1)/per+1, seq (g-1)%per+1; every fourth one starts a turn.
        "INSERT INTO messages (session_id, user_id, seq, role, content, meta, job_id,"
        " created_at) SELECT md5('s' || s), md5('u' || ((s - 1) / 10 + 1)), q,"
        " CASE WHEN q % 2 = 1 THEN 'user' ELSE 'assistant' END,"
        " repeat('word ', (5 + (g * 7919) % 75)::int), '{}',"
        " CASE WHEN q % 4 = 1 THEN md5('j' || g) END,"
        " now() - ((g * 104729) % (:days * 86400)) * interval '1 second'"
        " FROM (SELECT g, (g - 1) / :per + 1 AS s, (g - 1) % :per + 1 AS q"
        " FROM generate_series(1::bigint, :messages) g) m",
        "INSERT INTO jobs (id, session_id, user_id, status, cancel_requested, created_at,"
        " attempts, model, prompt_tokens, completion_tokens, tool_runs)"
        " SELECT job_id, session_id, user_id,"
        " CASE WHEN id % 20 = 0 THEN 'failed' ELSE 'done' END, false, created_at, 1,"
        f" (ARRAY[{models}])[1 + id % 4],"
        " CASE WHEN id % 4 = 0 THEN 0 ELSE 200 + (id * 31) % 7800 END,"
        " CASE WHEN id % 4 = 0 THEN 0 ELSE (200 + (id * 31) % 7800) / 4 END,"
        " id % 6 FROM messages WHERE job_id IS NOT NULL",
    ]
    params = {"users": users, "messages": messages, "per": per_session, "days": DAYS}
    rollup = _rollup_migration()
    with get_engine().begin() as c:
        for statement in statements[:-1]:
            c.execute(sa.text(statement), params)
        # 250,000 turns in one transaction: the rollup trigger would rewrite each of the 360
        # (day, model) rows ~700 times inside it, every version still visible to the
        # transaction, so each upsert walks a longer chain (minutes, quadratic). A turn of the
        # app is its own transaction and never sees that. So the bulk insert runs without the
        # trigger and the rollups are filled the way migration 0011 fills them.
        c.execute(sa.text("ALTER TABLE jobs DISABLE TRIGGER jobs_usage_days"))
        c.execute(sa.text(statements[-1]), params)
        c.execute(sa.text("ALTER TABLE jobs ENABLE TRIGGER jobs_usage_days"))
        for statement in rollup._fill(rollup.PG_DAY, rollup.PG_FAILED):
            c.execute(sa.text(statement))


def _rollup_migration() -> ModuleType:
    """alembic/versions/..._0011_usage_rollup.py as a module (for its fill statements)."""
    [path] = (ROOT / "alembic" / "versions").glob("*_0011_usage_rollup.py")
    spec = importlib.util.spec_from_file_location("usage_rollup_0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn: Callable[[], object]) -> list[float]:
    fn()  # warm up
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def row(label: str, times: list[float]) -> None:
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"  {label:28} {statistics.median(times):7.1f} {p95:7.1f} {max(times):7.1f}")


def measure(args: list[str], database: str) -> None:
    import os

    users = int(args[0]) if args else 1_000
    messages = int(args[1]) if len(args) > 1 else 1_000_000
    data = Path(tempfile.mkdtemp(prefix="bench-usage-"))
    os.environ["DATA_DIR"] = str(data)
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config
    from sqlmodel import Session

    from compymac_rx.db import get_engine, session_scope, utcnow
    from compymac_rx.usage import repository
    from compymac_rx.usage import service as usage
    from tests.factories import make_user

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    began = time.perf_counter()
    admin = make_user("admin@bench.example")
    if database == "PostgreSQL":
        seed_postgres(users, messages)
    else:
        seed(users, messages, random.Random(7))
    if database == "PostgreSQL":
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE"))
    with session_scope() as db:
        daily = repository.daily(db, since=utcnow() - timedelta(days=DAYS + 1))
        turns = sum(d.turns for d in daily)
        rows = [
            db.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("usage_user_days", "usage_model_days")
        ]
    print(
        f"usage dashboard, {database}: {users:,} users, {messages:,} messages, {turns:,} turns "
        f"over {DAYS} days; seeded in {time.perf_counter() - began:.0f} s; rollup rows "
        f"{rows[0]:,} (day, user) and {rows[1]:,} (day, model)"
    )
    print(f"  {'server time (ms)':28} {'p50':>7} {'p95':>7} {'max':>7}")
    for days in (7, 30, 90):

        def board(span: int = days) -> None:
            usage.dashboard(admin.id, days=span)

        row(f"dashboard, {days} days", timed(board))
    since = utcnow() - timedelta(days=30)
    queries: dict[str, Callable[[Session], object]] = {
        "  per day (30 d)": lambda db: repository.daily(db, since=since),
        "  per model (30 d)": lambda db: repository.by_model(db, since=since),
        "  active + top users (30 d)": lambda db: repository.people(db, since=since, limit=10),
        "  storage per user": lambda db: repository.storage(db, limit=10),
    }
    for label, query in queries.items():

        def one(q: Callable[[Session], object] = query) -> None:
            with session_scope() as db:
                q(db)

        row(label, timed(one))


if __name__ == "__main__":
    main()

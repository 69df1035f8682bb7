"""The per-day rollups (migration 0011) equal the raw aggregate over `jobs`, on both databases:
after inserts, a turn finishing (status, model, tokens written), deletions of turns, of a
chat and of a user, and after the migration's backfill of turns that existed before it."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from compymac_rx.accounts import repository as accounts
from compymac_rx.chats.models import AgentSession
from compymac_rx.db import get_engine, new_id, session_scope, utcnow
from compymac_rx.jobs.models import Job
from compymac_rx.usage import service as usage
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
MODELS = ("builtin", "gpt-a", "gpt-b")
# Per (day, user), per (day, model), per day; rows as strings (dates, counts).
Rollups = tuple[set[tuple[str, ...]], set[tuple[str, ...]], set[tuple[str, ...]]]


def utc_day(column: Any) -> Any:
    """The UTC day of a timestamp as each database computes it."""
    if get_engine().dialect.name == "sqlite":
        return sa.func.date(column)
    return sa.cast(sa.func.timezone("UTC", column), sa.Date)


def raw() -> Rollups:
    """Per (day, user) and per (day, model), summed from every turn."""
    jobs = Job.__table__  # type: ignore[attr-defined]
    day = utc_day(jobs.c.created_at)
    failed = sa.func.sum(sa.case((jobs.c.status == "failed", 1), else_=0))
    with get_engine().connect() as c:
        users = c.execute(
            sa.select(
                day,
                jobs.c.user_id,
                sa.func.count(),
                failed,
                sa.func.sum(jobs.c.tool_runs),
                sa.func.sum(jobs.c.prompt_tokens),
                sa.func.sum(jobs.c.completion_tokens),
            ).group_by(day, jobs.c.user_id)
        ).all()
        models = c.execute(
            sa.select(
                day,
                jobs.c.model,
                sa.func.count(),
                sa.func.sum(jobs.c.prompt_tokens),
                sa.func.sum(jobs.c.completion_tokens),
            ).group_by(day, jobs.c.model)
        ).all()
        days = c.execute(
            sa.select(day, sa.func.count(), failed, sa.func.sum(jobs.c.tool_runs)).group_by(day)
        ).all()
    return _strings(users), _strings(models), _strings(days)


def rolled_up() -> Rollups:
    with get_engine().connect() as c:
        users = c.execute(
            sa.text(
                "SELECT day, user_id, turns, failed, tool_runs, prompt_tokens,"
                " completion_tokens FROM usage_user_days"
            )
        ).all()
        models = c.execute(
            sa.text(
                "SELECT day, model, turns, prompt_tokens, completion_tokens FROM usage_model_days"
            )
        ).all()
        days = c.execute(
            sa.text("SELECT day, turns, failed, tool_runs FROM usage_days WHERE turns > 0")
        ).all()
    return _strings(users), _strings(models), _strings(days)


def _strings(rows: Any) -> set[tuple[str, ...]]:
    return {tuple(str(v) for v in row) for row in rows}


def seed(user_ids: list[str], rng: random.Random, count: int) -> list[str]:
    """Turns over 10 days and several sessions; returns the session ids."""
    sessions = [(new_id(), uid) for uid in user_ids for _ in range(2)]
    now = utcnow()
    with get_engine().begin() as c:
        # Plain SQL with the columns every revision has: the migration test seeds at 0010.
        c.execute(
            sa.text(
                "INSERT INTO agent_sessions (id, user_id, title, title_is_auto, workspace_path,"
                " archived, created_at, last_activity_at) VALUES (:id, :user_id, 'New session',"
                " true, '/nonexistent', false, :now, :now)"
            ),
            [{"id": s, "user_id": u, "now": now} for s, u in sessions],
        )
        rows = []
        for _ in range(count):
            session_id, user_id = rng.choice(sessions)
            rows.append(
                {
                    "id": new_id(),
                    "session_id": session_id,
                    "user_id": user_id,
                    "status": rng.choice(["queued", "running", "done", "failed"]),
                    "created_at": now - timedelta(seconds=rng.randrange(10 * 86400)),
                    "model": rng.choice(MODELS),
                    "prompt_tokens": rng.randrange(1000),
                    "completion_tokens": rng.randrange(300),
                    "tool_runs": rng.randrange(5),
                }
            )
        c.execute(sa.insert(Job.__table__), rows)  # type: ignore[attr-defined]
    return [s for s, _ in sessions]


def test_the_rollups_follow_every_change_to_the_turns() -> None:
    rng = random.Random(12)
    admin = make_user("admin@example.com")
    people = [make_user(f"p{n}@example.com").id for n in range(4)]
    sessions = seed([admin.id, *people], rng, 300)
    assert rolled_up() == raw()
    jobs = Job.__table__  # type: ignore[attr-defined]
    with get_engine().begin() as c:
        ids = [r[0] for r in c.execute(sa.select(jobs.c.id).order_by(jobs.c.id)).all()]
        # Turns finishing: the final status and usage written in one update (as the runner).
        for job_id in ids[:60]:
            c.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(
                    status=rng.choice(["done", "failed"]),
                    model=rng.choice(MODELS),
                    prompt_tokens=rng.randrange(5000),
                    completion_tokens=rng.randrange(900),
                    tool_runs=rng.randrange(9),
                )
            )
        # A heartbeat touches no counted column.
        c.execute(jobs.update().where(jobs.c.id.in_(ids[60:90])).values(heartbeat_at=utcnow()))
        c.execute(jobs.delete().where(jobs.c.id.in_(ids[90:110])))
    assert rolled_up() == raw()
    # A whole chat, and a whole person (cascades remove their turns and their rollup rows).
    with get_engine().begin() as c:
        chats = AgentSession.__table__  # type: ignore[attr-defined]
        c.execute(chats.delete().where(chats.c.id == sessions[0]))
    with session_scope() as db:
        assert accounts.delete_user(db, user_id=people[0])
    assert rolled_up() == raw()

    # The dashboard reads the rollups: the same numbers as the raw turns give.
    board = usage.dashboard(admin.id, days=30)
    with get_engine().connect() as c:
        total, failed, tools = c.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(sa.case((jobs.c.status == "failed", 1), else_=0)),
                sa.func.sum(jobs.c.tool_runs),
            )
        ).one()
        active = c.execute(sa.select(sa.func.count(sa.distinct(jobs.c.user_id)))).scalar_one()
    assert (board.turns, board.failed_turns, board.tool_runs) == (total, failed, tools)
    assert board.active_users == active
    assert sum(m.turns for m in board.models) == total


def test_the_migration_fills_the_rollups_from_existing_turns(data_dir: Path) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    # The people sign up at head (today's code writes today's columns); their turns are
    # written at 0010, before the rollups existed.
    people = [make_user(f"q{n}@example.com").id for n in range(3)]
    command.downgrade(config, "0010")
    get_engine().dispose()
    assert "usage_user_days" not in sa.inspect(get_engine()).get_table_names()
    seed(people, random.Random(5), 200)
    command.upgrade(config, "head")
    get_engine().dispose()
    rollups = rolled_up()
    assert len(rollups[0]) > 3 and rollups == raw()

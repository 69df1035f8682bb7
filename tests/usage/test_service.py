"""The admin usage dashboard: aggregate numbers over a range (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from compymac_rx.accounts.admins import NotAdmin
from compymac_rx.chats import service as chats
from compymac_rx.chats.models import AgentSession, Message
from compymac_rx.db import get_engine, new_id, session_scope, utcnow
from compymac_rx.jobs.models import Job
from compymac_rx.usage import service as usage
from tests.factories import make_user, wait_for_job


def add_turns(user_id: str, rows: list[dict[str, object]]) -> None:
    """Turns as the job runner leaves them (status, model, tokens, tool runs), on any day."""
    session_id = new_id()
    with get_engine().begin() as c:
        c.execute(
            sa.insert(AgentSession.__table__),  # type: ignore[attr-defined]
            [{"id": session_id, "user_id": user_id, "workspace_path": "/nonexistent"}],
        )
        c.execute(
            sa.insert(Job.__table__),  # type: ignore[attr-defined]
            [{"id": new_id(), "session_id": session_id, "user_id": user_id, **r} for r in rows],
        )
        c.execute(
            sa.insert(Message.__table__),  # type: ignore[attr-defined]
            [
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "seq": n + 1,
                    "role": "user",
                    "content": "x" * 100,
                    "meta": {},
                    "created_at": utcnow(),
                }
                for n in range(len(rows))
            ],
        )


def turn(days_ago: int, status: str = "done", **extra: object) -> dict[str, object]:
    at = utcnow() - timedelta(days=days_ago)
    usage = {"model": "", "prompt_tokens": 0, "completion_tokens": 0, "tool_runs": 0}
    return {"status": status, "created_at": at, **usage, **extra}


def test_numbers_per_day_model_and_user_over_the_range() -> None:
    admin = make_user("admin@example.com")
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    add_turns(
        alice.id,
        [
            turn(0, model="gpt-x", prompt_tokens=100, completion_tokens=50, tool_runs=2),
            turn(0, "failed", model="gpt-x", prompt_tokens=10, completion_tokens=0),
            turn(2, model="builtin", tool_runs=3),
            turn(40, model="gpt-x", prompt_tokens=9999, completion_tokens=9999),  # out of range
        ],
    )
    add_turns(bob.id, [turn(0, model="small", prompt_tokens=5, completion_tokens=5)])

    board = usage.dashboard(admin.id, days=7)
    assert (board.active_users, board.turns, board.failed_turns, board.tool_runs) == (2, 4, 1, 5)
    today = board.daily[-1]
    assert (today.turns, today.failed_turns, today.active_users, today.tool_runs) == (3, 1, 2, 2)
    assert [d.turns for d in board.daily] == [1, 3]
    assert [len(d.day) for d in board.daily] == [10, 10]  # YYYY-MM-DD on both databases
    assert [(m.model, m.prompt_tokens, m.completion_tokens) for m in board.models] == [
        ("gpt-x", 110, 50),
        ("small", 5, 5),
        ("builtin", 0, 0),
    ]
    assert [(u.email, u.turns, u.tokens) for u in board.top_users] == [
        ("alice@example.com", 3, 160),
        ("bob@example.com", 1, 10),
    ]
    assert [(s.email, s.messages, s.bytes) for s in board.storage] == [
        ("alice@example.com", 4, 400),
        ("bob@example.com", 1, 100),
    ]
    wide = usage.dashboard(admin.id, days=90)
    assert wide.turns == 5 and wide.top_users[0].tokens == 160 + 2 * 9999


def test_only_admins_see_it() -> None:
    make_user("admin@example.com")
    plain = make_user("plain@example.com")
    with pytest.raises(NotAdmin):
        usage.dashboard(plain.id, days=7)


def test_a_real_turn_records_its_model_and_tool_runs() -> None:
    admin = make_user("admin@example.com")
    chat = chats.create_session(admin.id)
    wait_for_job(admin.id, chats.send_message(admin.id, chat.id, "list the files"))
    with session_scope() as db:
        [job] = db.exec(sa.select(Job)).scalars().all()  # type: ignore[call-overload]
    assert job.model == "builtin"
    board = usage.dashboard(admin.id, days=1)
    assert board.turns == 1 and board.models[0].model == "builtin"
    assert board.tool_runs == job.tool_runs


def test_storage_totals_follow_inserts_and_deletes() -> None:
    admin = make_user("admin@example.com")
    chat = chats.create_session(admin.id)
    wait_for_job(admin.id, chats.send_message(admin.id, chat.id, "hello there"))
    [row] = usage.dashboard(admin.id, days=1).storage
    with session_scope() as db:
        stored = db.exec(sa.select(Message)).scalars().all()  # type: ignore[call-overload]
    assert row.messages == len(stored) >= 2
    assert row.bytes == sum(len(m.content.encode()) for m in stored)
    chats.delete_session(admin.id, chat.id)
    [after] = usage.dashboard(admin.id, days=1).storage
    assert (after.messages, after.bytes) == (0, 0)

"""Warming a worker process compiles the turn's statements and writes nothing."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from compymac_rx.chats import service as chats
from compymac_rx.chats.models import AgentSession, Message
from compymac_rx.chats.tasks import TURNS
from compymac_rx.chats.turns import run_job
from compymac_rx.db import get_engine, session_scope
from compymac_rx.jobs.models import Job
from compymac_rx.jobs.warm import after_fork
from compymac_rx.jobs.work import Claim
from tests.factories import make_user
from tests.jobs.test_turn_events import HeldRunner


def row_counts() -> list[int]:
    with session_scope() as db:
        return [
            db.exec(select(func.count()).select_from(table)).one()
            for table in (AgentSession, Message, Job)
        ]


def test_warm_up_writes_nothing_and_leaves_a_turn_nothing_to_compile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chats, "get_runner", HeldRunner)  # this test runs the job itself
    user = make_user()
    session = chats.create_session(user.id)
    after_fork()  # as in a forked child: the pool starts afresh
    before = row_counts()
    TURNS.warm_up()
    assert row_counts() == before
    job_id = chats.send_turn(user.id, session.id, "ls").job_id  # compiles the message INSERT
    compiled = get_engine()._compiled_cache  # type: ignore[attr-defined]
    size = len(compiled)
    assert run_job(job_id) is Claim.STARTED
    assert len(compiled) == size  # the claim, the tool record and the finish: all warm
    assert chats.get_job(user.id, job_id).status == "done"  # type: ignore[union-attr]

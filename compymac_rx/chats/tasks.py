"""Chat turns as the jobs package's work: what a runner (inline or Celery) is given to run."""

from __future__ import annotations

import functools

from sqlmodel import Session

from compymac_rx.agent.builtin import BuiltinBackend
from compymac_rx.agent.factory import get_model_backend
from compymac_rx.agent.types import ChatItem
from compymac_rx.chats import repository as chats
from compymac_rx.chats.turns import HISTORY_LIMIT, run_job
from compymac_rx.db import get_engine, utcnow
from compymac_rx.jobs.runner import JobRunner, make_runner
from compymac_rx.jobs.warm import NO_SUCH_ID, warm_bus, warm_job_statements
from compymac_rx.jobs.work import Claim


class TurnWork:
    """A job is one chat turn (chats/turns.py)."""

    def run(self, job_id: str) -> Claim:
        return run_job(job_id)

    def warm_up(self) -> None:
        """The turn's statements run once against ids that do not exist, in a transaction that
        is rolled back: compiled and cached, nothing written. Then the bus and the backends."""
        now = utcnow()
        with Session(get_engine()) as db:
            try:
                chats.claim_context(db, job_id=NO_SUCH_ID)
                warm_job_statements(db)
                chats.history(db, user_id=NO_SUCH_ID, session_id=NO_SUCH_ID, limit=HISTORY_LIMIT)
                chats.lock_session(db, user_id=NO_SUCH_ID, session_id=NO_SUCH_ID, now=now)
                for steps in ([1], [1, 2]):  # a tool record; the last reply with a trace or error
                    chats.numbers(
                        db,
                        user_id=NO_SUCH_ID,
                        session_id=NO_SUCH_ID,
                        job_id=NO_SUCH_ID,
                        steps=steps,
                    )
            finally:
                db.rollback()
        warm_bus()
        get_model_backend()
        list(BuiltinBackend().stream([ChatItem("user", "help")], []))


TURNS = TurnWork()


@functools.cache
def get_runner() -> JobRunner:
    """The runner of chat turns, as JOB_RUNNER says."""
    return make_runner(TURNS)

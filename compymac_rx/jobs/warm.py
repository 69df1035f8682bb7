"""Pay a new worker process's one-off costs before its first turn, not during a user's.

A fresh Celery child would otherwise open its first database and Redis connections, build the
backends and have SQLAlchemy compile every statement of the turn path inside the first turn it
runs. Here the turn's statements run once against ids that do not exist, in a transaction that
is rolled back, so they are compiled and cached and nothing is written.
"""

from __future__ import annotations

from sqlmodel import Session

from compymac_rx.agent.builtin import BuiltinBackend
from compymac_rx.agent.factory import get_model_backend
from compymac_rx.agent.types import ChatItem
from compymac_rx.chats import repository as chats
from compymac_rx.db import get_engine, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.models import JobStatus, TurnUsage
from compymac_rx.jobs.tasks import HISTORY_LIMIT

NO_SUCH_ID = "warm-up-no-such-id"


def after_fork() -> None:
    """A forked child must not use the parent's pooled connections (they share its sockets)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)


def warm_up() -> None:
    engine = get_engine()
    now = utcnow()
    with Session(engine) as db:
        try:
            repository.claim_context(db, job_id=NO_SUCH_ID)
            repository.claim_job(
                db, job_id=NO_SUCH_ID, user_id=NO_SUCH_ID, limit=1, now=now, stale_before=now
            )
            repository.job_status(db, job_id=NO_SUCH_ID)
            repository.cancel_requested(db, job_id=NO_SUCH_ID)
            chats.history(db, user_id=NO_SUCH_ID, session_id=NO_SUCH_ID, limit=HISTORY_LIMIT)
            chats.lock_session(db, user_id=NO_SUCH_ID, session_id=NO_SUCH_ID, now=now)
            for steps in ([1], [1, 2]):  # a tool record; the last reply with a trace or error
                chats.numbers(
                    db, user_id=NO_SUCH_ID, session_id=NO_SUCH_ID, job_id=NO_SUCH_ID, steps=steps
                )
            repository.finish(db, job_id=NO_SUCH_ID, status=JobStatus.DONE, error=None, now=now)
            repository.finish(
                db,
                job_id=NO_SUCH_ID,
                status=JobStatus.DONE,
                error=None,
                now=now,
                usage=TurnUsage("", 0, 0, 0),
            )
        finally:
            db.rollback()
    ping = getattr(get_bus(), "ping", None)
    if callable(ping):
        ping()
    get_model_backend()
    list(BuiltinBackend().stream([ChatItem("user", "help")], []))

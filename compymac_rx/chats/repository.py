"""Queries on agent sessions and messages, always scoped to the owner's user id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from compymac_rx.accounts.models import User
from compymac_rx.chats.models import AgentSession, Message
from compymac_rx.jobs.models import Job


def list_sessions(session: Session, *, user_id: str, archived: bool) -> Sequence[AgentSession]:
    return session.exec(
        select(AgentSession)
        .where(AgentSession.user_id == user_id, AgentSession.archived == archived)
        .order_by(col(AgentSession.last_activity_at).desc())
    ).all()


def get_session(session: Session, *, user_id: str, session_id: str) -> AgentSession | None:
    return session.exec(
        select(AgentSession).where(AgentSession.id == session_id, AgentSession.user_id == user_id)
    ).first()


def add_session(
    session: Session, *, user_id: str, session_id: str, workspace_path: str
) -> AgentSession:
    row = AgentSession(id=session_id, user_id=user_id, workspace_path=workspace_path)
    session.add(row)
    session.flush()
    return row


def delete_session(session: Session, *, user_id: str, session_id: str) -> bool:
    owned = get_session(session, user_id=user_id, session_id=session_id)
    if owned is None:
        return False
    # Explicit child deletes: SQLite enforces ON DELETE CASCADE only with the pragma on.
    session.execute(
        delete(Message).where(
            col(Message.session_id) == session_id, col(Message.user_id) == user_id
        )
    )
    session.execute(
        delete(Job).where(col(Job.session_id) == session_id, col(Job.user_id) == user_id)
    )
    session.delete(owned)
    session.flush()
    return True


def get_message_by_job_step(
    session: Session, *, user_id: str, job_id: str, job_step: int
) -> Message | None:
    return session.exec(
        select(Message).where(
            Message.user_id == user_id, Message.job_id == job_id, Message.job_step == job_step
        )
    ).first()


def add_message(
    session: Session,
    *,
    user_id: str,
    session_id: str,
    role: str,
    content: str,
    meta: dict[str, Any] | None = None,
    job_id: str | None = None,
    job_step: int | None = None,
    now: datetime,
) -> Message:
    """Append a message with the session's next sequence number.

    A (job_id, job_step) that exists already is returned as it is, so a redelivered job
    never stores the same step twice.
    """
    if job_id is not None and job_step is not None:
        existing = get_message_by_job_step(
            session, user_id=user_id, job_id=job_id, job_step=job_step
        )
        if existing is not None:
            return existing
    # Write to the session row first: that takes its row lock on PostgreSQL and the write lock
    # on SQLite (whose driver opens the transaction at the first write), so two writers (a
    # worker and the web process, or two workers) never read the same max(seq).
    session.execute(
        update(AgentSession)
        .where(col(AgentSession.id) == session_id, col(AgentSession.user_id) == user_id)
        .values(last_activity_at=now)
    )
    last = session.exec(
        select(func.max(Message.seq)).where(
            Message.session_id == session_id, Message.user_id == user_id
        )
    ).one()
    message = Message(
        session_id=session_id,
        user_id=user_id,
        seq=(last or 0) + 1,
        role=role,
        content=content,
        meta=meta or {},
        job_id=job_id,
        job_step=job_step,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def count_messages(session: Session, *, user_id: str, session_id: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.session_id == session_id, Message.user_id == user_id)
    ).one()


def list_messages(
    session: Session,
    *,
    user_id: str,
    session_id: str,
    limit: int,
    before_seq: int | None = None,
    after_seq: int | None = None,
) -> list[Message]:
    """Up to `limit` messages, oldest first.

    The newest page by default; the page just before `before_seq`; or the first messages
    after `after_seq` (a live view catching up).
    """
    query = select(Message).where(Message.session_id == session_id, Message.user_id == user_id)
    if after_seq is not None:
        query = query.where(Message.seq > after_seq).order_by(col(Message.seq))
        return list(session.exec(query.limit(limit)).all())
    if before_seq is not None:
        query = query.where(Message.seq < before_seq)
    rows = session.exec(query.order_by(col(Message.seq).desc()).limit(limit)).all()
    return list(reversed(rows))


def get_message(
    session: Session, *, user_id: str, session_id: str, message_id: int
) -> Message | None:
    return session.exec(
        select(Message).where(
            Message.id == message_id, Message.session_id == session_id, Message.user_id == user_id
        )
    ).first()


def last_user_message(session: Session, *, user_id: str, session_id: str) -> Message | None:
    return session.exec(
        select(Message)
        .where(Message.session_id == session_id, Message.user_id == user_id, Message.role == "user")
        .order_by(col(Message.seq).desc())
    ).first()


def delete_messages_after(session: Session, *, user_id: str, session_id: str, seq: int) -> int:
    result = session.execute(
        delete(Message).where(
            col(Message.session_id) == session_id,
            col(Message.user_id) == user_id,
            col(Message.seq) > seq,
        )
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def count_job_steps(session: Session, *, user_id: str, job_id: str) -> int:
    """Steps a job already stored (a redelivered job goes on after them)."""
    return session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user_id, Message.job_id == job_id)
    ).one()


def ownerless_sessions(session: Session) -> Sequence[AgentSession]:
    """Sessions whose user id names no account (data from a single-user install).

    An operator's one-off migration reads these; no user-facing code may call it.
    """
    owners = select(User.id)
    return session.exec(
        select(AgentSession)
        .where(col(AgentSession.user_id).not_in(owners))
        .order_by(col(AgentSession.created_at))
    ).all()


def give_session_to(
    session: Session, *, session_id: str, from_user_id: str, to_user_id: str, workspace_path: str
) -> None:
    """Move one session, its messages and jobs from `from_user_id` to `to_user_id`."""
    for table in (Message, Job):
        session.execute(
            update(table)
            .where(col(table.session_id) == session_id, col(table.user_id) == from_user_id)
            .values(user_id=to_user_id)
        )
    session.execute(
        update(AgentSession)
        .where(col(AgentSession.id) == session_id, col(AgentSession.user_id) == from_user_id)
        .values(user_id=to_user_id, workspace_path=workspace_path)
    )

"""Queries on agent sessions and messages, always scoped to the owner's user id."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Executable, and_, bindparam, delete, func, insert, update
from sqlmodel import Session, col, select

from compymac_rx.agent.params import ModelParams
from compymac_rx.agent.params import resolve as resolve_params
from compymac_rx.chats import versions
from compymac_rx.chats.models import (
    AgentSession,
    HistoryRow,
    Message,
    MessagePublic,
    message_public,
)
from compymac_rx.db import execute_core
from compymac_rx.jobs.models import Job, JobRef
from compymac_rx.jobs.repository import ACTIVE
from compymac_rx.keys.models import ModelPreference


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


# The turn path's hot queries are Core statements, built once with bind parameters: no unit of
# work or identity map, and neither building them nor finding their compiled form runs per call
# (as ORM calls built per call, they were half of a turn's CPU).
_sessions = AgentSession.__table__  # type: ignore[attr-defined]
_messages = Message.__table__  # type: ignore[attr-defined]
_jobs = Job.__table__  # type: ignore[attr-defined]
_preferences = ModelPreference.__table__  # type: ignore[attr-defined]


@dataclasses.dataclass(frozen=True)
class NewMessage:
    role: str
    content: str
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    job_step: int | None = None
    # A user message: the user message of the turn before it (see chats/versions.py).
    parent_id: int | None = None


@dataclasses.dataclass(frozen=True)
class TurnState:
    """What sending a message needs to know about its session, read under the session's lock."""

    title: str
    title_is_auto: bool
    last_seq: int
    job_active: bool
    # The user message of the last turn shown (the parent of the next one), None if none.
    last_user_id: int | None


@functools.cache
def _lock_statement(unarchive: bool) -> Executable:
    values: dict[str, Any] = {"last_activity_at": bindparam("p_now")}
    if unarchive:
        values["archived"] = False
    return (
        update(_sessions)
        .where(_sessions.c.id == bindparam("p_session"), _sessions.c.user_id == bindparam("p_user"))
        .values(values)
    )


@functools.cache
def _hold_statement() -> Executable:
    """The lock without a change: the title written as it is."""
    return (
        update(_sessions)
        .where(_sessions.c.id == bindparam("p_session"), _sessions.c.user_id == bindparam("p_user"))
        .values(title=_sessions.c.title)
    )


def lock_session(
    session: Session,
    *,
    user_id: str,
    session_id: str,
    now: datetime | None,
    unarchive: bool = False,
) -> bool:
    """Touch the session row (its activity time); False when it is not the user's.

    Every message write starts here: the update takes the row lock on PostgreSQL and the write
    lock on SQLite (whose driver opens the transaction at the first write), so two writers (a
    worker and the web process, or two workers) never read the same max(seq). With `now`
    None the row is locked but its time kept (switching a version is not activity).
    """
    params = {"p_session": session_id, "p_user": user_id, "p_now": now}
    statement = _hold_statement() if now is None else _lock_statement(unarchive)
    return bool(execute_core(session, statement, params).rowcount)


def _last_seq() -> Any:
    return (
        sa.select(func.coalesce(func.max(_messages.c.seq), 0))
        .where(
            _messages.c.session_id == bindparam("p_session"),
            _messages.c.user_id == bindparam("p_user"),
        )
        .scalar_subquery()
    )


@functools.cache
def _turn_state_statement() -> Executable:
    active = (
        sa.select(_jobs.c.id)
        .where(
            _jobs.c.session_id == bindparam("p_session"),
            _jobs.c.user_id == bindparam("p_user"),
            _jobs.c.status.in_(ACTIVE),
        )
        .exists()
    )
    last_user = (
        sa.select(_messages.c.id)
        .where(
            _messages.c.session_id == bindparam("p_session"),
            _messages.c.user_id == bindparam("p_user"),
            _messages.c.role == "user",
            _messages.c.hidden == sa.false(),
        )
        .order_by(_messages.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.select(
        _sessions.c.title, _sessions.c.title_is_auto, _last_seq(), active, last_user
    ).where(_sessions.c.id == bindparam("p_session"), _sessions.c.user_id == bindparam("p_user"))


def turn_state(session: Session, *, user_id: str, session_id: str) -> TurnState | None:
    """Title, last message number and whether a turn is active, in one statement."""
    params = {"p_session": session_id, "p_user": user_id}
    row = execute_core(session, _turn_state_statement(), params).first()
    if row is None:
        return None
    last_user = None if row[4] is None else int(row[4])
    return TurnState(str(row[0]), bool(row[1]), int(row[2]), bool(row[3]), last_user)


def set_title(session: Session, *, user_id: str, session_id: str, title: str) -> None:
    session.execute(
        update(_sessions)
        .where(_sessions.c.id == session_id, _sessions.c.user_id == user_id)
        .values(title=title)
    )


@functools.cache
def _insert_message_statement() -> Executable:
    return insert(_messages)


def insert_message(
    session: Session,
    *,
    user_id: str,
    session_id: str,
    seq: int,
    message: NewMessage,
    job_id: str | None,
    now: datetime,
) -> MessagePublic:
    """One row with a number the caller got under the session's lock (see lock_session)."""
    params = {
        "session_id": session_id,
        "user_id": user_id,
        "seq": seq,
        "role": message.role,
        "content": message.content,
        "meta": message.meta,
        "job_id": job_id,
        "job_step": message.job_step,
        "parent_id": message.parent_id,
        "created_at": now,
    }
    result = execute_core(session, _insert_message_statement(), params)
    message_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return MessagePublic(message_id, seq, message.role, message.content, message.meta, job_id)


@functools.cache
def _numbers_statement(steps: int) -> Executable:
    """The last seq, and the ids of the job's steps `step_0`..`step_<n-1>` if stored."""
    existing = [
        sa.select(_messages.c.id)
        .where(
            _messages.c.job_id == bindparam("p_job"),
            _messages.c.job_step == bindparam(f"step_{n}"),
        )
        .scalar_subquery()
        for n in range(steps)
    ]
    return sa.select(_last_seq(), *existing)


def numbers(
    session: Session, *, user_id: str, session_id: str, job_id: str | None, steps: Sequence[int]
) -> tuple[int, list[int | None]]:
    """The session's last seq, and the message id of each of the job's `steps` (None if new)."""
    params: dict[str, Any] = {"p_session": session_id, "p_user": user_id, "p_job": job_id}
    params.update((f"step_{n}", step) for n, step in enumerate(steps))
    row = execute_core(session, _numbers_statement(len(steps)), params).one()
    return int(row[0]), [None if value is None else int(value) for value in row[1:]]


def append_messages(
    session: Session,
    *,
    user_id: str,
    session_id: str,
    messages: Sequence[NewMessage],
    job_id: str | None = None,
    now: datetime,
) -> list[MessagePublic]:
    """Append messages with the session's next numbers, in three statements for any count.

    A (job_id, job_step) that exists already is returned as it is, so a redelivered job
    never stores the same step twice. Raises LookupError when the session is gone.
    """
    if not lock_session(session, user_id=user_id, session_id=session_id, now=now):
        raise LookupError(f"session {session_id} is gone")
    steps = [m.job_step for m in messages if m.job_step is not None] if job_id else []
    seq, stored_steps = numbers(
        session, user_id=user_id, session_id=session_id, job_id=job_id, steps=steps
    )
    found: dict[int | None, int | None] = dict(zip(steps, stored_steps, strict=True))
    stored: list[MessagePublic] = []
    # A user message goes after the last turn shown (a turn's own writes never include one).
    parent = None
    if any(m.role == "user" for m in messages):
        parent = versions.last_shown_user_id(session, user_id=user_id, session_id=session_id)
    for message in messages:
        if (old_id := found.get(message.job_step)) is not None:
            old = session.get(Message, old_id)
            assert old is not None
            stored.append(message_public(old))
            continue
        seq += 1
        if message.role == "user" and message.parent_id is None:
            message = dataclasses.replace(message, parent_id=parent)
        stored.append(
            insert_message(
                session,
                user_id=user_id,
                session_id=session_id,
                seq=seq,
                message=message,
                job_id=job_id,
                now=now,
            )
        )
        if message.role == "user":
            parent = stored[-1].id
    return stored


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
    """Append one message (see append_messages) and return its row."""
    [public] = append_messages(
        session,
        user_id=user_id,
        session_id=session_id,
        messages=[NewMessage(role, content, meta or {}, job_step)],
        job_id=job_id,
        now=now,
    )
    row = session.get(Message, public.id)
    assert row is not None
    return row


@functools.cache
def _history_statement(limit: int) -> Executable:
    return (
        sa.select(_messages.c.id, _messages.c.role, _messages.c.content, _messages.c.meta)
        .where(
            _messages.c.session_id == bindparam("p_session"),
            _messages.c.user_id == bindparam("p_user"),
            _messages.c.hidden == sa.false(),  # the model sees the chosen versions only
        )
        .order_by(_messages.c.seq.desc())
        .limit(limit)
    )


def history(session: Session, *, user_id: str, session_id: str, limit: int) -> list[HistoryRow]:
    """The newest `limit` messages of the chosen path, oldest first, as the model needs them."""
    params = {"p_session": session_id, "p_user": user_id}
    rows = execute_core(session, _history_statement(limit), params).all()
    return [HistoryRow(int(r[0]), str(r[1]), str(r[2]), dict(r[3])) for r in reversed(rows)]


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
    """Up to `limit` messages of the chosen path, oldest first.

    The newest page by default; the page just before `before_seq`; or the first messages
    after `after_seq` (a live view catching up).
    """
    query = select(Message).where(
        Message.session_id == session_id, Message.user_id == user_id, _shown()
    )
    if after_seq is not None:
        query = query.where(Message.seq > after_seq).order_by(col(Message.seq))
        return list(session.exec(query.limit(limit)).all())
    if before_seq is not None:
        query = query.where(Message.seq < before_seq)
    rows = session.exec(query.order_by(col(Message.seq).desc()).limit(limit)).all()
    return list(reversed(rows))


def _shown() -> sa.ColumnElement[bool]:
    """On the chosen path: not a hidden version (chats/versions.py)."""
    return col(Message.hidden) == sa.false()


def get_message(
    session: Session, *, user_id: str, session_id: str, message_id: int
) -> Message | None:
    return session.exec(
        select(Message).where(
            Message.id == message_id, Message.session_id == session_id, Message.user_id == user_id
        )
    ).first()


def last_user_message(session: Session, *, user_id: str, session_id: str) -> Message | None:
    """The user message of the last turn shown."""
    return session.exec(
        select(Message)
        .where(
            Message.session_id == session_id,
            Message.user_id == user_id,
            Message.role == "user",
            _shown(),
        )
        .order_by(col(Message.seq).desc())
    ).first()


def ownerless_sessions(session: Session, *, owners: sa.Select[Any]) -> Sequence[AgentSession]:
    """Sessions whose user id is not among `owners` (every account's id: data from a
    single-user install).

    An operator's one-off migration reads these; no user-facing code may call it.
    """
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


def set_session_params(
    session: Session,
    *,
    user_id: str,
    session_id: str,
    system_prompt: str,
    temperature: float | None,
    max_output_tokens: int | None,
) -> bool:
    """A session's model parameters; False when it is not the user's."""
    result = session.execute(
        update(_sessions)
        .where(_sessions.c.id == session_id, _sessions.c.user_id == user_id)
        .values(
            system_prompt=system_prompt,
            temperature=temperature,
            max_output_tokens=max_output_tokens,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def all_sessions(session: Session, *, user_id: str) -> Sequence[AgentSession]:
    """Every session of the user, archived ones too, oldest first (an account export)."""
    return session.exec(
        select(AgentSession)
        .where(AgentSession.user_id == user_id)
        .order_by(col(AgentSession.created_at), col(AgentSession.id))
    ).all()


def all_messages(session: Session, *, user_id: str, session_id: str) -> Sequence[Message]:
    """A session's conversation as shown (the chosen versions), oldest first (an export)."""
    return session.exec(
        select(Message)
        .where(Message.session_id == session_id, Message.user_id == user_id, _shown())
        .order_by(col(Message.seq))
    ).all()


def content_size(session: Session, *, user_id: str) -> int:
    """About how many bytes the user's messages hold (to refuse an oversized export early)."""
    total = session.exec(
        select(func.coalesce(func.sum(func.length(Message.content)), 0)).where(
            Message.user_id == user_id
        )
    ).one()
    return int(total)


def add_imported_session(
    session: Session, *, user_id: str, session_id: str, workspace_path: str, source: AgentSession
) -> AgentSession:
    """A new session of `user_id` with the title, flags and times of `source` (not stored)."""
    row = AgentSession(
        id=session_id,
        user_id=user_id,
        workspace_path=workspace_path,
        title=source.title,
        title_is_auto=False,
        archived=source.archived,
        model=source.model,
        system_prompt=source.system_prompt,
        temperature=source.temperature,
        max_output_tokens=source.max_output_tokens,
        created_at=source.created_at,
        last_activity_at=source.last_activity_at,
    )
    session.add(row)
    session.flush()
    return row


@dataclasses.dataclass(frozen=True)
class ClaimContext:
    """A job with what running it needs: its session's workspace, model and model
    parameters, the owner's default model and prompt, and the steps an earlier run stored."""

    job: JobRef
    status: str
    cancel_requested: bool
    workspace: str
    session_model: str
    default_model: str
    steps_done: int
    params: ModelParams


@functools.cache
def _claim_context_statement() -> Executable:
    steps = (
        sa.select(func.count())
        .select_from(_messages)
        .where(_messages.c.job_id == _jobs.c.id, _messages.c.user_id == _jobs.c.user_id)
        .scalar_subquery()
    )
    return (
        sa.select(
            _jobs.c.session_id,
            _jobs.c.user_id,
            _jobs.c.attempts,
            _jobs.c.created_at,
            _jobs.c.status,
            _jobs.c.cancel_requested,
            _sessions.c.workspace_path,
            _sessions.c.model,
            _preferences.c.default_model,
            steps,
            _sessions.c.system_prompt,
            _preferences.c.system_prompt,
            _sessions.c.temperature,
            _sessions.c.max_output_tokens,
        )
        .select_from(
            _jobs.join(
                _sessions,
                and_(_sessions.c.id == _jobs.c.session_id, _sessions.c.user_id == _jobs.c.user_id),
            ).outerjoin(_preferences, _preferences.c.user_id == _jobs.c.user_id)
        )
        .where(_jobs.c.id == bindparam("p_job"))
    )


def claim_context(session: Session, *, job_id: str) -> ClaimContext | None:
    """None when the job, or its session under the same owner, does not exist."""
    row = execute_core(session, _claim_context_statement(), {"p_job": job_id}).first()
    if row is None:
        return None
    return ClaimContext(
        job=JobRef(job_id, row[0], row[1], int(row[2]), row[3]),
        status=str(row[4]),
        cancel_requested=bool(row[5]),
        workspace=str(row[6]),
        session_model=str(row[7]),
        default_model=str(row[8] or ""),
        steps_done=int(row[9]),
        params=resolve_params(
            session_prompt=str(row[10] or ""),
            default_prompt=str(row[11] or ""),
            temperature=None if row[12] is None else float(row[12]),
            max_output_tokens=None if row[13] is None else int(row[13]),
        ),
    )

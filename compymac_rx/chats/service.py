"""Agent sessions and chat turns: the rules, on top of the repositories."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from compymac_rx import ratelimit, workspaces
from compymac_rx.agent import params
from compymac_rx.audit import service as audit
from compymac_rx.chats import repository, versions
from compymac_rx.chats.attachments import AttachmentError, AttachmentRef, check_attachments
from compymac_rx.chats.changes import announce_deleted, announce_session
from compymac_rx.chats.models import (
    DEFAULT_TITLE,
    AgentSession,
    SessionPublic,
    message_payload,
    message_public,
)

# Re-exported: the views take the public shapes from the service.
from compymac_rx.chats.models import MessagePublic as MessagePublic
from compymac_rx.chats.tasks import get_runner
from compymac_rx.db import new_id, session_scope, utcnow
from compymac_rx.jobs import repository as jobs
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import JobEvent
from compymac_rx.jobs.models import JobPublic
from compymac_rx.settings import get_settings

AUTO_TITLE_CHARS = 60


class ChatError(Exception):
    """A refusal worth showing to the user as it is."""


class NotFound(ChatError):
    def __init__(self) -> None:
        super().__init__("That session does not exist or is not yours.")


class RateLimited(ChatError):
    """Over the per-user limit; `wait` says how many seconds until the next try."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"You are sending messages too fast. Try again in {wait} s.")
        self.wait = wait


def owned_session(db: Session, user_id: str, session_id: str) -> AgentSession:
    """The user's session row; NotFound when it does not exist or is not theirs (the same)."""
    row = repository.get_session(db, user_id=user_id, session_id=session_id)
    if row is None:
        raise NotFound()
    return row


def _public(row: AgentSession) -> SessionPublic:
    return SessionPublic(
        id=row.id, title=row.title, archived=row.archived, last_activity_at=row.last_activity_at
    )


def auto_title(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) <= AUTO_TITLE_CHARS:
        return first_line or DEFAULT_TITLE
    return first_line[: AUTO_TITLE_CHARS - 1].rstrip() + "…"


def create_session(user_id: str) -> SessionPublic:
    session_id = new_id()
    path = workspaces.workspace_path(get_settings().workspaces_root, user_id, session_id)
    workspaces.create_workspace(path)
    with session_scope() as db:
        row = repository.add_session(
            db, user_id=user_id, session_id=session_id, workspace_path=str(path.resolve())
        )
        created = _public(row)
    announce_session(user_id, created)
    return created


def list_sessions(user_id: str, *, archived: bool = False) -> list[SessionPublic]:
    with session_scope() as db:
        return [
            _public(r) for r in repository.list_sessions(db, user_id=user_id, archived=archived)
        ]


def get_session(user_id: str, session_id: str) -> SessionPublic | None:
    with session_scope() as db:
        row = repository.get_session(db, user_id=user_id, session_id=session_id)
        return _public(row) if row else None


def rename_session(user_id: str, session_id: str, title: str) -> SessionPublic:
    title = " ".join(title.split())
    limit = get_settings().max_title_chars
    if not title:
        raise ChatError("A title cannot be empty.")
    if len(title) > limit:
        raise ChatError(f"A title can have at most {limit} characters.")
    with session_scope() as db:
        row = owned_session(db, user_id, session_id)
        row.title, row.title_is_auto = title, False
        db.add(row)
        renamed = _public(row)
    announce_session(user_id, renamed)
    return renamed


def set_archived(user_id: str, session_id: str, archived: bool) -> SessionPublic:
    with session_scope() as db:
        row = owned_session(db, user_id, session_id)
        row.archived = archived
        db.add(row)
        changed = _public(row)
    announce_session(user_id, changed)
    return changed


def delete_session(user_id: str, session_id: str) -> None:
    """Delete the session, its messages and jobs; then stop its turn and remove its folder.

    The runner is told after the commit: cancelling may write the job's row on another
    connection, which would wait forever on this transaction's lock of it.
    """
    with session_scope() as db:
        owned_session(db, user_id, session_id)
        job = jobs.active_job(db, user_id=user_id, session_id=session_id)
        job_id = job.id if job is not None else None
        repository.delete_session(db, user_id=user_id, session_id=session_id)
        audit.own("chat.delete", user_id, target=f"chat:{session_id}", db=db)
    announce_deleted(user_id, session_id)
    if job_id is not None:
        # The row is gone, so the turn's next poll of its flag stops it (see cancel_requested);
        # a waiting one is also taken off the queue.
        get_runner().cancel(job_id)
    workspaces.delete_workspace(
        workspaces.workspace_path(get_settings().workspaces_root, user_id, session_id)
    )


def load_messages(
    user_id: str, session_id: str, *, before_seq: int | None = None, after_seq: int | None = None
) -> list[MessagePublic]:
    """A page of history, oldest first: the newest page, or older than `before_seq`."""
    with session_scope() as db:
        owned_session(db, user_id, session_id)
        rows = repository.list_messages(
            db,
            user_id=user_id,
            session_id=session_id,
            limit=get_settings().history_page_size,
            before_seq=before_seq,
            after_seq=after_seq,
        )
        users = [r for r in rows if r.role == "user"]
        siblings = versions.sibling_ids(
            db, user_id=user_id, session_id=session_id, parents=[r.parent_id for r in users]
        )
        found = {r.id: siblings[r.parent_id] for r in users if len(siblings[r.parent_id]) > 1}
        return [dataclasses.replace(message_public(r), versions=found.get(r.id, ())) for r in rows]


def validate_message(text: str) -> str:
    limit = get_settings().max_message_chars
    if not text.strip():
        raise ChatError("Type a message first.")
    if len(text) > limit:
        raise ChatError(
            f"A message can have at most {limit:,} characters (this one has {len(text):,})."
        )
    return text.strip("\n")


def _queue_job(
    user_id: str, session_id: str, job_id: str, message: MessagePublic | None = None
) -> str:
    # seq 0: the runner numbers its own events from 1. The user's message rides along, so
    # the owner's other tabs show it without a read.
    payload: dict[str, Any] = {"status": "queued"}
    if message is not None:
        payload["message"] = message_payload(message)
    get_bus().publish(JobEvent(job_id, session_id, user_id, 0, "status", payload))
    get_runner().submit(job_id)
    return job_id


def set_session_model(user_id: str, session_id: str, choice: str) -> None:
    """The session's model ("" = the user's default); the next turn uses it."""
    if len(choice) > 200:
        raise ChatError("That model name is too long.")
    with session_scope() as db:
        row = owned_session(db, user_id, session_id)
        row.model = choice
        db.add(row)


def get_session_model(user_id: str, session_id: str) -> str:
    with session_scope() as db:
        row = owned_session(db, user_id, session_id)
        return row.model


@dataclasses.dataclass(frozen=True)
class SessionParams:
    """A session's own model parameters as entered ("" / None: inherited)."""

    system_prompt: str
    temperature: float | None
    max_output_tokens: int | None


def max_tokens_limit() -> int:
    """The most output tokens a session may ask for: half the context window, so the
    conversation always keeps the other half."""
    return get_settings().model_context_tokens // 2


def get_session_params(user_id: str, session_id: str) -> SessionParams:
    with session_scope() as db:
        row = owned_session(db, user_id, session_id)
        return SessionParams(row.system_prompt, row.temperature, row.max_output_tokens)


def set_session_params(
    user_id: str, session_id: str, *, system_prompt: str, temperature: str, max_tokens: str
) -> SessionParams:
    """Check and store a session's prompt, temperature and max output tokens, as typed in
    the session dialog (empty: inherit). ChatError with a plain reason for a bad value."""
    try:
        checked = SessionParams(
            params.clean_prompt(system_prompt),
            params.parse_temperature(temperature),
            params.parse_max_tokens(max_tokens, max_tokens_limit()),
        )
    except params.ParamsRefused as error:
        raise ChatError(str(error)) from None
    with session_scope() as db:
        if not repository.set_session_params(
            db,
            user_id=user_id,
            session_id=session_id,
            system_prompt=checked.system_prompt,
            temperature=checked.temperature,
            max_output_tokens=checked.max_output_tokens,
        ):
            raise NotFound()
    return checked


def resend_from(user_id: str, session_id: str, message_id: int | None, text: str | None) -> str:
    """Regenerate (message_id None: the last turn shown) or edit a user message and resend.

    Either makes a new version of that turn (chats/versions.py): a new user message beside the
    old one, chosen, and a turn from it. The old version and what followed it stay, hidden,
    a switch away. Workspace files the earlier reply changed stay as they are.
    """
    # A resend starts a model turn like a new message does: same limit, same key.
    if wait := ratelimit.take("message_user", f"user:{user_id}"):
        raise RateLimited(wait)
    now = utcnow()
    with session_scope() as db:
        state = _locked_idle(db, user_id, session_id, now)
        if message_id is None:
            anchor = repository.last_user_message(db, user_id=user_id, session_id=session_id)
        else:
            anchor = repository.get_message(
                db, user_id=user_id, session_id=session_id, message_id=message_id
            )
        if anchor is None or anchor.role != "user" or anchor.hidden:
            raise ChatError("There is no message of yours to send again.")
        content = anchor.content if text is None else validate_message(text)
        versions.unchoose_siblings(
            db, user_id=user_id, session_id=session_id, parent_id=anchor.parent_id
        )
        repository.insert_message(
            db,
            user_id=user_id,
            session_id=session_id,
            seq=state.last_seq + 1,
            message=repository.NewMessage("user", content, parent_id=anchor.parent_id),
            job_id=None,
            now=now,
        )
        versions.refresh_path(db, user_id=user_id, session_id=session_id)
        job_id = jobs.insert_job(db, user_id=user_id, session_id=session_id, now=now)
    return _queue_job(user_id, session_id, job_id)


def choose_version(user_id: str, session_id: str, message_id: int) -> None:
    """Show the version of a turn that starts with user message `message_id` (and the
    versions chosen after it when it was last shown); the next turn follows it."""
    with session_scope() as db:
        _locked_idle(db, user_id, session_id, None)
        row = repository.get_message(
            db, user_id=user_id, session_id=session_id, message_id=message_id
        )
        if row is None or row.role != "user":
            raise ChatError("That version is gone.")
        versions.choose(db, user_id=user_id, session_id=session_id, message=row)


def _locked_idle(
    db: Session, user_id: str, session_id: str, now: datetime | None
) -> repository.TurnState:
    """Lock the user's session (touching its activity time when `now` is given) and refuse
    while a turn runs: a turn's replies go after the turn shown when it started."""
    if not repository.lock_session(db, user_id=user_id, session_id=session_id, now=now):
        raise NotFound()
    state = repository.turn_state(db, user_id=user_id, session_id=session_id)
    assert state is not None  # locked just above
    if state.job_active:
        raise ChatError("The agent is still working. Stop it first.")
    return state


@dataclasses.dataclass(frozen=True)
class SentTurn:
    """What a sent message started: the job, the stored message, the session's title (new when
    the message gave the session its automatic title)."""

    job_id: str
    message: MessagePublic
    title: str


def send_turn(
    user_id: str,
    session_id: str,
    text: str,
    *,
    job_id: str | None = None,
    attach: Sequence[str] = (),
    now: datetime | None = None,
) -> SentTurn:
    """Store the user's message and a queued job in one transaction, then submit the job.

    `job_id` (from `new_id`) lets a caller know the job's id before its first event.
    `attach`: workspace-relative paths of files to attach (chats.attachments); a message
    with attachments may have no text. `now` (default: the time of the call) is the session's
    new activity time: a tab that gives it shows the change itself (state/live.py, UserTabs).
    """
    text = validate_message(text) if text.strip() or not attach else ""
    refs = _attachments(user_id, session_id, attach)
    if wait := ratelimit.take("message_user", f"user:{user_id}"):
        raise RateLimited(wait)
    meta: dict[str, Any] = {"attachments": [r.as_meta() for r in refs]} if refs else {}
    now = now or utcnow()
    with session_scope() as db:
        # The session row first: its lock orders this against every other writer of it.
        if not repository.lock_session(
            db, user_id=user_id, session_id=session_id, now=now, unarchive=True
        ):
            raise NotFound()
        state = repository.turn_state(db, user_id=user_id, session_id=session_id)
        assert state is not None  # locked just above
        if state.job_active:
            raise ChatError("The agent is still working on the last message. Wait, or stop it.")
        title = state.title
        if state.title_is_auto and state.last_seq == 0:
            title = auto_title(text or ", ".join(r.name for r in refs))
            repository.set_title(db, user_id=user_id, session_id=session_id, title=title)
        message = repository.insert_message(
            db,
            user_id=user_id,
            session_id=session_id,
            seq=state.last_seq + 1,
            message=repository.NewMessage("user", text, meta, parent_id=state.last_user_id),
            job_id=None,
            now=now,
        )
        job_id = jobs.insert_job(db, user_id=user_id, session_id=session_id, now=now, job_id=job_id)
    # The session moves to the top of the user's other tabs' sidebars, with its (maybe new) title.
    announce_session(user_id, SessionPublic(session_id, title, False, now))
    _queue_job(user_id, session_id, job_id, message)
    return SentTurn(job_id, message, title)


def _attachments(user_id: str, session_id: str, paths: Sequence[str]) -> list[AttachmentRef]:
    """The files checked beneath the session's workspace, before the transaction: the folder
    is named by the caller's own user id, and the session's row is checked under its lock."""
    if not paths:
        return []
    try:
        folder = workspaces.workspace_path(get_settings().workspaces_root, user_id, session_id)
    except ValueError:  # not an id of ours
        raise NotFound() from None
    try:
        return check_attachments(folder, paths)
    except FileNotFoundError:
        raise NotFound() from None
    except AttachmentError as error:
        raise ChatError(str(error)) from None


def send_message(user_id: str, session_id: str, text: str) -> str:
    """send_turn for callers that need only the job id."""
    return send_turn(user_id, session_id, text).job_id


def stop_turn(user_id: str, session_id: str) -> bool:
    """Ask the session's running turn to stop. False when nothing is running."""
    with session_scope() as db:
        job = jobs.active_job(db, user_id=user_id, session_id=session_id)
        if job is None or not jobs.request_cancel(db, user_id=user_id, job_id=job.id):
            return False
    get_runner().cancel(job.id)
    return True


def active_job(user_id: str, session_id: str) -> JobPublic | None:
    with session_scope() as db:
        job = jobs.active_job(db, user_id=user_id, session_id=session_id)
        return JobPublic(job.id, job.status, job.error) if job else None


def get_job(user_id: str, job_id: str) -> JobPublic | None:
    with session_scope() as db:
        job = jobs.get_job(db, user_id=user_id, job_id=job_id)
        return JobPublic(job.id, job.status, job.error) if job else None


def message_content(user_id: str, session_id: str, message_id: int) -> str:
    """One stored message's whole text (a tool's full output behind its preview)."""
    with session_scope() as db:
        row = repository.get_message(
            db, user_id=user_id, session_id=session_id, message_id=message_id
        )
        if row is None:
            raise ChatError("That message is gone.")
        return row.content

"""One agent turn for one job id: load, run the agent, persist, publish."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from compymac_rx.agent.factory import get_model_backend
from compymac_rx.agent.loop import run_turn
from compymac_rx.agent.sandbox import SandboxLimits
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import ChatItem, ToolCall, ToolResult
from compymac_rx.chats import repository as chats
from compymac_rx.chats.models import Message
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.bus import EventBus, get_bus
from compymac_rx.jobs.events import JobEvent
from compymac_rx.jobs.models import Job, JobStatus
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200
CANCEL_POLL_SECONDS = 0.2


class JobPublisher:
    """Numbers a job's events and puts them on the bus."""

    def __init__(self, bus: EventBus, job: Job) -> None:
        self._bus = bus
        self._job_id, self._session_id, self._user_id = job.id, job.session_id, job.user_id
        self._seq = 0

    def publish(self, kind: str, **payload: Any) -> None:
        # The bus hands out the number, so a redelivered job goes on after its first run's
        # events and a reconnecting tab neither misses nor repeats one.
        self._seq = self._bus.next_seq(self._job_id, at_least=self._seq + 1)
        self._bus.publish(
            JobEvent(self._job_id, self._session_id, self._user_id, self._seq, kind, payload)
        )


class JobSink:
    """The agent loop's TurnSink: durable parts to the database, every step to the bus."""

    def __init__(self, job: Job, publisher: JobPublisher) -> None:
        self._job = job
        self._publisher = publisher
        self._step = 0
        self._last_poll = 0.0
        self._cancelled = False

    def _store(self, role: str, content: str, meta: dict[str, Any]) -> Message:
        self._step += 1
        with session_scope() as db:
            return chats.add_message(
                db,
                user_id=self._job.user_id,
                session_id=self._job.session_id,
                role=role,
                content=content,
                meta=meta,
                job_id=self._job.id,
                job_step=self._step,
                now=utcnow(),
            )

    def text_delta(self, text: str) -> None:
        self._publisher.publish("delta", text=text)

    def tool_started(self, call: ToolCall) -> None:
        self._publisher.publish("tool_start", call_id=call.id, tool=call.name, args=call.arguments)

    def tool_finished(self, call: ToolCall, result: ToolResult, duration_ms: int) -> None:
        meta = {
            "call_id": call.id,
            "tool": call.name,
            "args": call.arguments,
            "ok": result.ok,
            "duration_ms": duration_ms,
        }
        message = self._store("tool", result.output, meta)
        self._publisher.publish("tool_end", call_id=call.id, message_id=message.id)

    def assistant_message(self, text: str) -> None:
        message = self._store("assistant", text, {})
        self._publisher.publish("message", message_id=message.id)

    def cancelled(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_poll >= CANCEL_POLL_SECONDS:
            self._last_poll = now
            with session_scope() as db:
                self._cancelled = repository.cancel_requested(db, job_id=self._job.id)
        return self._cancelled


def history_to_items(messages: Sequence[Message]) -> list[ChatItem]:
    """Stored messages as the model sees them; a tool record is a call and its result."""
    items: list[ChatItem] = []
    for message in messages:
        if message.role == "tool":
            call = ToolCall(
                id=str(message.meta.get("call_id", f"call_{message.id}")),
                name=str(message.meta.get("tool", "")),
                arguments=dict(message.meta.get("args", {})),
            )
            items.append(ChatItem("assistant", "", tool_calls=(call,)))
            items.append(ChatItem("tool", message.content, tool_call_id=call.id))
        elif message.role in ("user", "assistant"):
            items.append(ChatItem(message.role, message.content))  # type: ignore[arg-type]
    return items


def finish_job(job_id: str, status: JobStatus, error: str | None, now: datetime) -> Job | None:
    with session_scope() as db:
        job = repository.get_job_for_runner(db, job_id=job_id)
        if job is None or JobStatus(job.status).finished:
            return None
        job.status, job.error, job.finished_at = status.value, error, now
        db.add(job)
    return job


def _start(job_id: str) -> tuple[Job, str, list[ChatItem]] | None:
    with session_scope() as db:
        job = repository.get_job_for_runner(db, job_id=job_id)
        if job is None or JobStatus(job.status).finished:
            return None
        owner = chats.get_session(db, user_id=job.user_id, session_id=job.session_id)
        if owner is None:
            return None
        job.status, job.started_at = JobStatus.RUNNING.value, utcnow()
        db.add(job)
        history = chats.list_messages(
            db, user_id=job.user_id, session_id=job.session_id, limit=HISTORY_LIMIT
        )
        return job, owner.workspace_path, history_to_items(history)


def run_job(job_id: str) -> None:
    """Run one turn. Every outcome, a crash included, ends in a stored final status."""
    started = _start(job_id)
    if started is None:
        return
    job, workspace, history = started
    settings = get_settings()
    publisher = JobPublisher(get_bus(), job)
    publisher.publish("status", status=JobStatus.RUNNING.value)
    sink = JobSink(job, publisher)
    status, error = JobStatus.DONE, None
    try:
        toolbox = Toolbox(
            Path(workspace), SandboxLimits.from_settings(settings), settings.file_read_limit
        )
        outcome = run_turn(
            backend=get_model_backend(),
            toolbox=toolbox,
            history=history,
            sink=sink,
            max_steps=settings.agent_max_steps,
        )
        if outcome == "cancelled":
            status = JobStatus.CANCELLED
    except Exception as exc:
        log.exception("job %s failed", job_id)
        status, error = JobStatus.FAILED, f"The agent stopped with an error: {type(exc).__name__}"
    finish_job(job_id, status, error, utcnow())
    publisher.publish("status", status=status.value, error=error)

"""One agent turn for one job id: load, run the agent, persist, publish."""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from compymac_rx.agent.factory import BUILTIN, backend_for_job
from compymac_rx.agent.loop import run_turn
from compymac_rx.agent.sandbox import SandboxLimits
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import ChatItem, ModelError, ModelUsage, ToolCall, ToolResult
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

    def __init__(self, job: Job, publisher: JobPublisher, *, steps_done: int = 0) -> None:
        self._job = job
        self._publisher = publisher
        # A redelivered job resumes: its stored steps are in the history, new ones follow.
        self._step = steps_done
        self._last_poll = 0.0
        self._cancelled = False
        self.model = ""
        self.trace: list[dict[str, Any]] = []
        self._deadline = time.monotonic() + get_settings().job_time_limit_seconds
        self.timed_out = False

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
        self.trace.append({"kind": "tool", "name": call.name, "ms": duration_ms, "ok": result.ok})
        self._publisher.publish("tool_end", call_id=call.id, message=message_payload(message))

    def model_call_finished(self, duration_ms: int, usage: ModelUsage | None) -> None:
        step = {"kind": "model", "name": self.model, "ms": duration_ms}
        if usage is not None:
            step["prompt_tokens"], step["completion_tokens"] = (
                usage.prompt_tokens,
                usage.completion_tokens,
            )
        self.trace.append(step)

    def finish(self, error: str | None) -> None:
        """The turn's durable tail: the error shown in the chat, then the trace timeline."""
        if error:
            message = self._store("error", error, {})
            self._publisher.publish("message", message=message_payload(message))
        # The offline builtin agent has no model calls worth timing: no trace row for it.
        if self.trace and self.model != BUILTIN:
            total = sum(int(step["ms"]) for step in self.trace)
            message = self._store("trace", "", {"steps": self.trace, "total_ms": total})
            self._publisher.publish("message", message=message_payload(message))

    def assistant_message(self, text: str) -> None:
        message = self._store("assistant", text, {})
        self._publisher.publish("message", message=message_payload(message))

    def cancelled(self) -> bool:
        now = time.monotonic()
        if now >= self._deadline:
            self.timed_out = True
            return True
        if not self._cancelled and now - self._last_poll >= CANCEL_POLL_SECONDS:
            self._last_poll = now
            with session_scope() as db:
                self._cancelled = repository.cancel_requested(db, job_id=self._job.id)
        return self._cancelled


def message_payload(row: Message) -> dict[str, Any]:
    """A stored message as events carry it: the view shows it without a read."""
    return {
        "id": row.id,
        "seq": row.seq,
        "role": row.role,
        "content": row.content,
        "meta": dict(row.meta),
        "job_id": row.job_id,
    }


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


def fail_and_publish(job_id: str, error: str) -> bool:
    """Store a failed status and tell the tabs; False when the job had already ended."""
    job = finish_job(job_id, JobStatus.FAILED, error, utcnow())
    if job is None:
        return False
    JobPublisher(get_bus(), job).publish("status", status=JobStatus.FAILED.value, error=error)
    return True


class Claim(enum.StrEnum):
    STARTED = "started"
    GONE = "gone"  # finished, deleted, or no longer its owner's
    WAIT = "wait"  # the owner's running limit is reached
    BUSY = "busy"  # another worker runs it and is alive


@dataclasses.dataclass
class Started:
    job: Job
    workspace: str
    model: str  # the session's model choice ("" = the user's default)
    history: list[ChatItem]
    steps_done: int


def _claim(job_id: str) -> tuple[Claim, Started | None]:
    settings = get_settings()
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.job_stale_seconds)
    with session_scope() as db:
        job = repository.get_job_for_runner(db, job_id=job_id)
        if job is None or JobStatus(job.status).finished:
            return Claim.GONE, None
        owner = chats.get_session(db, user_id=job.user_id, session_id=job.session_id)
        if owner is None:
            return Claim.GONE, None
        claimed = repository.claim_job(
            db,
            job_id=job_id,
            user_id=job.user_id,
            limit=settings.jobs_per_user,
            now=now,
            stale_before=stale_before,
        )
        if not claimed:
            db.refresh(job)
            if job.status == JobStatus.QUEUED.value:
                return Claim.WAIT, Started(job, "", "", [], 0)
            return (Claim.GONE if JobStatus(job.status).finished else Claim.BUSY), None
        db.refresh(job)
        history = chats.list_messages(
            db, user_id=job.user_id, session_id=job.session_id, limit=HISTORY_LIMIT
        )
        steps = chats.count_job_steps(db, user_id=job.user_id, job_id=job.id)
        return Claim.STARTED, Started(
            job, owner.workspace_path, owner.model, history_to_items(history), steps
        )


def announce_queue_position(job: Job) -> None:
    with session_scope() as db:
        position = repository.queue_position(db, user_id=job.user_id, job=job)
    JobPublisher(get_bus(), job).publish("status", status="queued", position=position)


class Heartbeat:
    """Writes the job's heartbeat from a side thread, also while a long tool call runs."""

    def __init__(self, job_id: str, interval: float) -> None:
        self._job_id, self._interval = job_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with session_scope() as db:
                    repository.heartbeat(db, job_id=self._job_id, now=utcnow())
            except Exception:
                log.warning("heartbeat of job %s failed", self._job_id, exc_info=True)


def run_job(job_id: str) -> Claim:
    """Run one turn, or say why not. Every run that starts ends in a stored final status."""
    settings = get_settings()
    claim, started = _claim(job_id)
    if claim is Claim.WAIT and started is not None:
        announce_queue_position(started.job)
    if claim is not Claim.STARTED or started is None:
        return claim
    job = started.job
    if job.attempts > settings.job_max_attempts:
        fail_and_publish(job_id, f"The turn was interrupted {job.attempts - 1} times; giving up.")
        return Claim.GONE
    publisher = JobPublisher(get_bus(), job)
    last = started.history[-1] if started.history else None
    if started.steps_done and last is not None and last.role == "assistant":
        # The previous run stored its final reply and died before the status: nothing to redo.
        finish_job(job_id, JobStatus.DONE, None, utcnow())
        publisher.publish("status", status=JobStatus.DONE.value, error=None)
        return Claim.STARTED
    # A retry tells the tabs to drop the half-streamed step they show: it starts again.
    publisher.publish("status", status=JobStatus.RUNNING.value, retry=job.attempts > 1)
    sink = JobSink(job, publisher, steps_done=started.steps_done)
    status, error = JobStatus.DONE, None
    try:
        with Heartbeat(job_id, settings.job_heartbeat_seconds):
            toolbox = Toolbox(
                Path(started.workspace),
                SandboxLimits.from_settings(settings),
                settings.file_read_limit,
            )
            backend, sink.model = backend_for_job(
                job.user_id, started.model, should_stop=sink.cancelled
            )
            outcome = run_turn(
                backend=backend,
                toolbox=toolbox,
                history=started.history,
                sink=sink,
                max_steps=settings.agent_max_steps,
            )
        if sink.timed_out:
            status = JobStatus.FAILED
            error = f"The turn hit the time limit ({settings.job_time_limit_seconds} s)."
        elif outcome == "cancelled":
            status = JobStatus.CANCELLED
    except ModelError as exc:
        # A provider refusal is the user's business, not a crash: no traceback in the log.
        log.info("job %s: model error: %s", job_id, exc)
        status, error = JobStatus.FAILED, str(exc)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        status, error = JobStatus.FAILED, f"The agent stopped with an error: {type(exc).__name__}"
    try:
        sink.finish(error)
    except Exception:
        # The final status below matters more than the error row or the trace.
        log.exception("job %s: could not store the turn's error or trace", job_id)
    finish_job(job_id, status, error, utcnow())
    publisher.publish("status", status=status.value, error=error)
    return Claim.STARTED

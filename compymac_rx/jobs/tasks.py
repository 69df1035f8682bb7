"""One agent turn for one job id: load, run the agent, persist, publish.

Its database work is two transactions for a turn without tools (the claim with the model choice
and the history; the final reply with the job's status) plus one per tool call.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from compymac_rx.agent.factory import BUILTIN, backend_for_choice, choose
from compymac_rx.agent.loop import run_turn
from compymac_rx.agent.sandbox import SandboxLimits
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import ChatItem, ModelError, ModelUsage, ToolCall, ToolResult
from compymac_rx.chats import repository as chats
from compymac_rx.chats.models import HistoryRow, MessagePublic, message_payload
from compymac_rx.chats.repository import NewMessage
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.heartbeat import Heartbeat
from compymac_rx.jobs.models import JobRef, JobStatus, TurnUsage
from compymac_rx.jobs.publisher import JobPublisher
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200
CANCEL_POLL_SECONDS = 0.2


class JobSink:
    """The agent loop's TurnSink: durable parts to the database, every step to the bus.

    A step's reply is kept until the next durable write: before a tool call it is stored on its
    own; the last one is stored in the same transaction as the job's final status.
    """

    def __init__(
        self,
        job: JobRef,
        publisher: JobPublisher,
        *,
        steps_done: int = 0,
        cancel_requested: bool = False,
    ) -> None:
        self._job = job
        self._publisher = publisher
        # A redelivered job resumes: its stored steps are in the history, new ones follow.
        self._step = steps_done
        # The claim has just read the flag: the first poll can wait its turn.
        self._last_poll = time.monotonic()
        self._cancelled = cancel_requested
        self._reply = ""
        self.model = ""
        self.trace: list[dict[str, Any]] = []
        self._deadline = time.monotonic() + get_settings().job_time_limit_seconds
        self.timed_out = False

    def _next(self, role: str, content: str, meta: dict[str, Any]) -> NewMessage:
        self._step += 1
        return NewMessage(role, content, meta, self._step)

    def _append(self, db: Session, messages: list[NewMessage]) -> list[MessagePublic]:
        return chats.append_messages(
            db,
            user_id=self._job.user_id,
            session_id=self._job.session_id,
            messages=messages,
            job_id=self._job.id,
            now=utcnow(),
        )

    def _store(self, messages: list[NewMessage]) -> list[MessagePublic]:
        with session_scope() as db:
            return self._append(db, messages)

    def _announce(self, stored: Sequence[MessagePublic]) -> None:
        for message in stored:
            self._publisher.publish("message", message=message_payload(message))

    def _store_reply(self) -> None:
        if self._reply:
            reply, self._reply = self._reply, ""
            self._announce(self._store([self._next("assistant", reply, {})]))

    def text_delta(self, text: str) -> None:
        self._publisher.delta(text)

    def assistant_message(self, text: str) -> None:
        self._store_reply()  # never two pending: the loop reports one reply per step
        self._reply = text

    def tool_started(self, call: ToolCall) -> None:
        self._store_reply()
        self._publisher.publish("tool_start", call_id=call.id, tool=call.name, args=call.arguments)

    def tool_finished(self, call: ToolCall, result: ToolResult, duration_ms: int) -> None:
        meta = {
            "call_id": call.id,
            "tool": call.name,
            "args": call.arguments,
            "ok": result.ok,
            "duration_ms": duration_ms,
        }
        [message] = self._store([self._next("tool", result.output, meta)])
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

    def _tail(self, error: str | None) -> list[NewMessage]:
        tail = [self._next("assistant", self._reply, {})] if self._reply else []
        self._reply = ""
        if error:
            tail.append(self._next("error", error, {}))
        # The offline builtin agent has no model calls worth timing: no trace row for it.
        if self.trace and self.model != BUILTIN:
            total = sum(int(step["ms"]) for step in self.trace)
            tail.append(self._next("trace", "", {"steps": self.trace, "total_ms": total}))
        return tail

    def finish(self, status: JobStatus, error: str | None) -> None:
        """The turn's durable tail and its final status in one transaction, then its events."""
        tail = self._tail(error)
        stored: list[MessagePublic] = []
        try:
            with session_scope() as db:
                stored = self._append(db, tail) if tail else []
                ended = repository.finish(
                    db,
                    job_id=self._job.id,
                    status=status,
                    error=error,
                    now=utcnow(),
                    usage=self._usage(),
                )
        except Exception:
            # The final status matters more than the reply, the error row or the trace.
            log.exception("job %s: could not store the turn's tail", self._job.id)
            ended = finish_job(self._job.id, status, error, utcnow())
        self._announce(stored)
        if ended is not None:  # else the reaper or a cancel ended it, and said so
            self._publisher.publish("status", status=status.value, error=error)

    def _usage(self) -> TurnUsage:
        models = [step for step in self.trace if step["kind"] == "model"]
        return TurnUsage(
            model=self.model[:200],
            prompt_tokens=sum(int(step.get("prompt_tokens", 0)) for step in models),
            completion_tokens=sum(int(step.get("completion_tokens", 0)) for step in models),
            tool_runs=sum(1 for step in self.trace if step["kind"] == "tool"),
        )

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


def history_to_items(messages: Sequence[HistoryRow]) -> list[ChatItem]:
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


def finish_job(job_id: str, status: JobStatus, error: str | None, now: datetime) -> JobRef | None:
    """Give the job its final status; None when it had ended already."""
    with session_scope() as db:
        return repository.finish(db, job_id=job_id, status=status, error=error, now=now)


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
    job: JobRef
    workspace: str
    model: str  # the resolved model choice (see agent.factory.choose)
    history: list[ChatItem]
    steps_done: int
    cancel_requested: bool


def _claim(job_id: str) -> tuple[Claim, Started | None]:
    """Claim the job, with its model choice and history, in one transaction."""
    settings = get_settings()
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.job_stale_seconds)
    with session_scope() as db:
        context = repository.claim_context(db, job_id=job_id)
        if context is None or JobStatus(context.status).finished:
            return Claim.GONE, None
        job = context.job
        # Read before the claim's write: on SQLite the write takes the process's writer lock
        # (sqlite_writer.py), which every other turn waits for, so nothing else runs under it.
        # Nothing else writes this session's messages while its job is unclaimed.
        history = chats.history(
            db, user_id=job.user_id, session_id=job.session_id, limit=HISTORY_LIMIT
        )
        attempts = repository.claim_job(
            db,
            job_id=job_id,
            user_id=job.user_id,
            limit=settings.jobs_per_user,
            now=now,
            stale_before=stale_before,
        )
        if attempts is None:
            status = repository.job_status(db, job_id=job_id)
            if status == JobStatus.QUEUED.value:
                return Claim.WAIT, Started(job, "", "", [], 0, False)
            gone = status is None or JobStatus(status).finished
            return (Claim.GONE if gone else Claim.BUSY), None
    return Claim.STARTED, Started(
        dataclasses.replace(job, attempts=attempts),
        context.workspace,
        choose(context.session_model, context.default_model),
        history_to_items(history),
        context.steps_done,
        context.cancel_requested,
    )


def announce_queue_position(job: JobRef) -> None:
    with session_scope() as db:
        position = repository.queue_position(db, user_id=job.user_id, job=job)
    publisher = JobPublisher(get_bus(), job)
    publisher.publish("status", status="queued", position=position)
    publisher.flush()


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
    sink = JobSink(
        job,
        publisher,
        steps_done=started.steps_done,
        cancel_requested=started.cancel_requested,
    )
    status, error = JobStatus.DONE, None
    try:
        with Heartbeat(job_id, settings.job_heartbeat_seconds):
            toolbox = Toolbox(
                Path(started.workspace),
                SandboxLimits.from_settings(settings),
                settings.file_read_limit,
            )
            backend, sink.model = backend_for_choice(
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
    sink.finish(status, error)
    publisher.flush()  # when the turn had ended elsewhere, no final status flushed the rest
    return Claim.STARTED

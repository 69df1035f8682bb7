"""The agent loop's sink for one chat turn: durable parts to the database, every step to the bus."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from compymac_rx.agent.params import ModelParams
from compymac_rx.agent.types import ModelUsage, ToolCall, ToolCallDelta, ToolResult
from compymac_rx.chats import repository as chats
from compymac_rx.chats.models import MessagePublic, message_payload
from compymac_rx.chats.repository import NewMessage
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository as jobs
from compymac_rx.jobs.models import JobRef, JobStatus, TurnUsage
from compymac_rx.jobs.publisher import JobPublisher
from compymac_rx.jobs.service import finish_job
from compymac_rx.keys.choice import BUILTIN
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)


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
        stop_flag: threading.Event | None = None,
    ) -> None:
        self._job = job
        self._publisher = publisher
        # A redelivered job resumes: its stored steps are in the history, new ones follow.
        self._step = steps_done
        # Set once the turn is asked to stop (run_job has jobs.cancels watch the job's row).
        self.stop_flag = stop_flag or threading.Event()
        # The step's reply and the reasoning before it, kept until the next durable write.
        self._reply, self._reasoning = "", ""
        self.model = ""
        # What the turn sent besides the conversation; the trace records it.
        self.params: ModelParams | None = None
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

    def _take_reply(self) -> list[NewMessage]:
        """The kept reply as a message to store (its reasoning in its meta), or none."""
        if not (self._reply or self._reasoning):
            return []
        meta = {"reasoning": self._reasoning} if self._reasoning else {}
        reply = self._next("assistant", self._reply, meta)
        self._reply, self._reasoning = "", ""
        return [reply]

    def _store_reply(self) -> None:
        if pending := self._take_reply():
            self._announce(self._store(pending))

    def text_delta(self, text: str) -> None:
        self._publisher.delta(text)

    def reasoning_delta(self, text: str) -> None:
        self._publisher.reasoning(text)

    def tool_call_delta(self, delta: ToolCallDelta) -> None:
        self._publisher.tool_args(delta.call_id, delta.name, delta.arguments)

    def assistant_message(self, text: str, reasoning: str = "") -> None:
        self._store_reply()  # never two pending: the loop reports one reply per step
        self._reply, self._reasoning = text, reasoning

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
        tail = self._take_reply()
        if error:
            tail.append(self._next("error", error, {}))
        # The offline builtin agent has no model calls worth timing: no trace row for it.
        if self.trace and self.model != BUILTIN:
            total = sum(int(step["ms"]) for step in self.trace)
            meta: dict[str, Any] = {"steps": self.trace, "total_ms": total}
            if self.params is not None:
                meta["params"] = self.params.trace()
            tail.append(self._next("trace", "", meta))
        return tail

    def finish(self, status: JobStatus, error: str | None) -> None:
        """The turn's durable tail and its final status in one transaction, then its events."""
        tail = self._tail(error)
        stored: list[MessagePublic] = []
        try:
            with session_scope() as db:
                stored = self._append(db, tail) if tail else []
                ended = jobs.finish(
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
        return self.stop_flag.is_set()

"""One chat turn for one job id: claim it with its history, run the agent, persist, publish.

Its database work is two transactions for a turn without tools (the claim with the model choice
and the history; the final reply with the job's status) plus one per tool call.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from compymac_rx.agent.loop import run_turn
from compymac_rx.agent.params import ModelParams
from compymac_rx.agent.sandbox import SandboxLimits
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import Attached, ChatItem, ModelError, ToolCall
from compymac_rx.chats import attachments
from compymac_rx.chats import repository as chats
from compymac_rx.chats.models import HistoryRow
from compymac_rx.chats.sink import JobSink
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository as jobs
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.cancels import CANCELS
from compymac_rx.jobs.heartbeat import Heartbeat
from compymac_rx.jobs.models import JobRef, JobStatus
from compymac_rx.jobs.publisher import JobPublisher
from compymac_rx.jobs.service import announce_queue_position, fail_and_publish, finish_job
from compymac_rx.jobs.work import Claim
from compymac_rx.keys.choice import backend_for_choice, choose
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200
INTERNAL_ERROR = (
    "The agent stopped on an internal error. Try again; if it keeps happening, tell the operator."
)


def history_to_items(
    messages: Sequence[HistoryRow], attached: Mapping[int, Sequence[Attached]] | None = None
) -> list[ChatItem]:
    """Stored messages as the model sees them; a tool record is a call and its result.

    `attached`: the files of user messages, by message id, as read for this turn."""
    files = attached or {}
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
        elif message.role == "user":
            items.append(
                ChatItem("user", message.content, attachments=tuple(files.get(message.id, ())))
            )
        elif message.role == "assistant" and message.content:
            # An empty reply holds only reasoning (kept for the reader): nothing said aloud.
            items.append(ChatItem("assistant", message.content))
    return items


@dataclasses.dataclass
class Started:
    job: JobRef
    workspace: str
    model: str  # the resolved model choice (see keys.choice.choose)
    history: list[ChatItem]
    steps_done: int
    cancel_requested: bool
    params: ModelParams = dataclasses.field(default_factory=ModelParams)


def _claim(job_id: str) -> tuple[Claim, Started | None]:
    """Claim the job, with its model choice and history, in one transaction."""
    settings = get_settings()
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.job_stale_seconds)
    with session_scope() as db:
        context = chats.claim_context(db, job_id=job_id)
        if context is None or JobStatus(context.status).finished:
            return Claim.GONE, None
        job = context.job
        # Read before the claim's write: on SQLite the write takes the process's writer lock
        # (sqlite_writer.py), which every other turn waits for, so nothing else runs under it.
        # Nothing else writes this session's messages while its job is unclaimed.
        history = chats.history(
            db, user_id=job.user_id, session_id=job.session_id, limit=HISTORY_LIMIT
        )
        attempts = jobs.claim_job(
            db,
            job_id=job_id,
            user_id=job.user_id,
            limit=settings.jobs_per_user,
            now=now,
            stale_before=stale_before,
        )
        if attempts is None:
            status = jobs.job_status(db, job_id=job_id)
            if status == JobStatus.QUEUED.value:
                return Claim.WAIT, Started(job, "", "", [], 0, False)
            gone = status is None or JobStatus(status).finished
            return (Claim.GONE if gone else Claim.BUSY), None
    # Attached files are read after the transaction: the rows above name them.
    attached = attachments.read_for_history(context.workspace, history)
    return Claim.STARTED, Started(
        dataclasses.replace(job, attempts=attempts),
        context.workspace,
        choose(context.session_model, context.default_model),
        history_to_items(history, attached),
        context.steps_done,
        context.cancel_requested,
        context.params,
    )


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
    with CANCELS.watching(job.id, requested=started.cancel_requested) as stop_flag:
        sink = JobSink(job, publisher, steps_done=started.steps_done, stop_flag=stop_flag)
        sink.params = started.params
        status, error = _run_turn(job, started, sink)
        sink.finish(status, error)
    publisher.flush()  # when the turn had ended elsewhere, no final status flushed the rest
    return Claim.STARTED


def _run_turn(job: JobRef, started: Started, sink: JobSink) -> tuple[JobStatus, str | None]:
    """The agent loop for a claimed job; its final status and the user's error, if any."""
    settings = get_settings()
    status, error = JobStatus.DONE, None
    try:
        with Heartbeat(job.id, settings.job_heartbeat_seconds):
            toolbox = Toolbox(
                Path(started.workspace),
                SandboxLimits.from_settings(settings),
                settings.file_read_limit,
            )
            backend, sink.model = backend_for_choice(
                job.user_id, started.model, should_stop=sink.cancelled, params=started.params
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
        log.info("job %s: model error: %s", job.id, exc)
        status, error = JobStatus.FAILED, str(exc)
    except Exception:
        # A bug, not the user's business: a sentence for them, the traceback for the log.
        log.exception("job %s failed", job.id)
        status, error = JobStatus.FAILED, INTERNAL_ERROR
    return status, error

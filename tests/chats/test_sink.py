"""JobSink, the agent loop's TurnSink: what a turn stores, in which transaction, and what it
tells the tabs. Driven directly (no runner, no model) against a real job row."""

from __future__ import annotations

import time
from typing import Any

from compymac_rx.agent.params import ModelParams
from compymac_rx.agent.types import ModelUsage, ToolCall, ToolResult
from compymac_rx.chats import repository as chats_repository
from compymac_rx.chats import service as chats
from compymac_rx.chats.sink import JobSink
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.bus import MemoryEventBus
from compymac_rx.jobs.cancels import CANCELS
from compymac_rx.jobs.models import Job, JobRef, JobStatus
from compymac_rx.jobs.publisher import JobPublisher
from compymac_rx.keys.choice import BUILTIN
from tests.factories import make_user


class Turn:
    """A running job of a fresh user's session, a bus of its own, and a sink for it."""

    def __init__(self, *, steps_done: int = 0) -> None:
        self.user_id = make_user().id
        self.session_id = chats.create_session(self.user_id).id
        now = utcnow()
        with session_scope() as db:
            self.job_id = repository.insert_job(
                db, user_id=self.user_id, session_id=self.session_id, now=now
            )
            repository.claim_job(
                db, job_id=self.job_id, user_id=self.user_id, limit=1, now=now, stale_before=now
            )
        with session_scope() as db:
            context = chats_repository.claim_context(db, job_id=self.job_id)
            assert context is not None
            self.job: JobRef = context.job
        self.bus = MemoryEventBus(replay_seconds=60)
        # flush_seconds=0: every event reaches the bus at once, so the test reads them in order.
        self.publisher = JobPublisher(self.bus, self.job, flush_seconds=0)
        self.sink = JobSink(self.job, self.publisher, steps_done=steps_done)

    def stored(self) -> list[tuple[str, str, int | None]]:
        with session_scope() as db:
            rows = chats_repository.all_messages(
                db, user_id=self.user_id, session_id=self.session_id
            )
            return [(m.role, m.content, m.job_step) for m in rows]

    def events(self) -> list[tuple[str, Any]]:
        """(kind, what it carries) of every event published so far."""
        out = []
        for event in self.bus.replay(self.job_id):
            payload = event.payload
            if "message" in payload:
                out.append((event.kind, payload["message"]["content"]))
            else:
                out.append((event.kind, payload.get("status", payload.get("text"))))
        return out

    def row(self) -> Job:
        with session_scope() as db:
            job = repository.get_job(db, user_id=self.user_id, job_id=self.job_id)
            assert job is not None
            db.expunge(job)
            return job


def test_a_reply_before_a_tool_is_stored_first_and_every_step_is_announced() -> None:
    turn = Turn()
    turn.sink.model = BUILTIN  # the offline agent: no trace row (see the next tests)
    call = ToolCall("c1", "run_command", {"command": "ls"})
    turn.sink.text_delta("Let me ")
    turn.sink.text_delta("look.")
    turn.sink.assistant_message("Let me look.")
    assert turn.stored() == []  # a reply waits for the next durable write
    turn.sink.tool_started(call)
    assert turn.stored() == [("assistant", "Let me look.", 1)]
    turn.sink.tool_finished(call, ToolResult("a.txt\n"), duration_ms=7)
    turn.sink.assistant_message("One file.")
    turn.sink.finish(JobStatus.DONE, None)
    assert turn.stored() == [
        ("assistant", "Let me look.", 1),
        ("tool", "a.txt\n", 2),
        ("assistant", "One file.", 3),
    ]
    assert turn.events() == [
        ("delta", "Let me "),  # unbatched here (flush_seconds=0)
        ("delta", "look."),
        ("message", "Let me look."),
        ("tool_start", None),
        ("tool_end", "a.txt\n"),
        ("message", "One file."),
        ("status", "done"),
    ]
    assert turn.row().status == "done"


def test_the_tool_row_keeps_the_call_and_its_outcome() -> None:
    turn = Turn()
    call = ToolCall("c9", "read_file", {"path": "x"})
    turn.sink.tool_started(call)
    turn.sink.tool_finished(call, ToolResult("no such file", ok=False), duration_ms=3)
    with session_scope() as db:
        [row] = chats_repository.all_messages(db, user_id=turn.user_id, session_id=turn.session_id)
    assert row.meta == {
        "call_id": "c9",
        "tool": "read_file",
        "args": {"path": "x"},
        "ok": False,
        "duration_ms": 3,
    }


def test_a_failed_turn_stores_its_reply_error_trace_and_usage_with_its_status() -> None:
    turn = Turn()
    turn.sink.model = "openai:fake-small"
    turn.sink.model_call_finished(120, ModelUsage(prompt_tokens=50, completion_tokens=7))
    call = ToolCall("c1", "run_command", {"command": "true"})
    turn.sink.tool_started(call)
    turn.sink.tool_finished(call, ToolResult(""), duration_ms=5)
    turn.sink.model_call_finished(80, ModelUsage(prompt_tokens=60, completion_tokens=3))
    turn.sink.assistant_message("Half an answer")
    turn.sink.finish(JobStatus.FAILED, "The model provider refused the request.")
    roles = [(role, step) for role, _content, step in turn.stored()]
    assert roles == [("tool", 1), ("assistant", 2), ("error", 3), ("trace", 4)]
    job = turn.row()
    assert (job.status, job.error) == ("failed", "The model provider refused the request.")
    assert (job.model, job.prompt_tokens, job.completion_tokens, job.tool_runs) == (
        "openai:fake-small",
        110,
        10,
        1,
    )
    assert turn.events()[-1] == ("status", "failed")


def test_the_builtin_agent_leaves_no_trace_row() -> None:
    turn = Turn()
    turn.sink.model = BUILTIN
    turn.sink.model_call_finished(1, None)
    turn.sink.assistant_message("hi")
    turn.sink.finish(JobStatus.DONE, None)
    assert [role for role, _c, _s in turn.stored()] == ["assistant"]


def test_a_turn_ended_elsewhere_announces_no_second_final_status() -> None:
    turn = Turn()
    with session_scope() as db:  # a cancel (or the reaper) got there first
        repository.finish(
            db, job_id=turn.job_id, status=JobStatus.CANCELLED, error=None, now=utcnow()
        )
    turn.sink.assistant_message("late reply")
    turn.sink.finish(JobStatus.DONE, None)
    assert turn.row().status == "cancelled"
    assert ("status", "done") not in turn.events()
    assert turn.events()[-1] == ("message", "late reply")  # what it stored is still shown


def test_a_resumed_turn_numbers_its_steps_after_the_stored_ones() -> None:
    turn = Turn(steps_done=2)
    turn.sink.assistant_message("after the restart")
    turn.sink.finish(JobStatus.DONE, None)
    assert turn.stored() == [("assistant", "after the restart", 3)]


def test_cancelled_reads_the_flag_and_the_time_limit() -> None:
    turn = Turn()
    with CANCELS.watching(turn.job_id) as flag:
        turn.sink.stop_flag = flag
        time.sleep(CANCELS.poll_seconds * 2)
        assert not turn.sink.cancelled()  # the control: a running turn goes on
        with session_scope() as db:
            assert repository.request_cancel(db, user_id=turn.user_id, job_id=turn.job_id)
        assert flag.wait(5) and turn.sink.cancelled()
    late = Turn()
    late.sink._deadline = 0.0  # the time limit has passed
    assert late.sink.cancelled() and late.sink.timed_out


def test_reasoning_is_stored_with_its_reply_and_the_trace_records_the_params() -> None:
    turn = Turn()
    turn.sink.model = "openai:fake-small"
    turn.sink.params = ModelParams("Answer in French.", "session", 0.3, 321)
    turn.sink.reasoning_delta("Which file? ")
    turn.sink.model_call_finished(10, None)
    turn.sink.assistant_message("", "Which file? ")  # a tool step: reasoning, no text
    call = ToolCall("c1", "list_files", {})
    turn.sink.tool_started(call)
    turn.sink.tool_finished(call, ToolResult("a.txt"), duration_ms=2)
    turn.sink.assistant_message("Voilà.", "Done.")
    turn.sink.finish(JobStatus.DONE, None)
    with session_scope() as db:
        rows = chats_repository.all_messages(db, user_id=turn.user_id, session_id=turn.session_id)
        metas = [(m.role, m.content, m.meta) for m in rows]
    assert metas[0] == ("assistant", "", {"reasoning": "Which file? "})
    assert metas[2] == ("assistant", "Voilà.", {"reasoning": "Done."})
    trace = metas[3][2]
    assert trace["params"] == {
        "system_prompt": "Answer in French.",
        "prompt_source": "session",
        "temperature": 0.3,
        "max_tokens": 321,
    }
    assert ("reasoning", "Which file? ") in turn.events()

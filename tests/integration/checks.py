"""What every fault and topology test checks in the database afterwards."""

from __future__ import annotations

import time
from collections import Counter

from sqlmodel import select

from compymac_rx.chats.models import Message
from compymac_rx.db import session_scope
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import JobEvent
from compymac_rx.jobs.models import Job


def assert_turn_intact(job_id: str, *, user_messages: int = 1) -> list[Message]:
    """No lost or duplicated message: one user message, each step stored once, a final reply,
    and a session history numbered 1..n without holes."""
    with session_scope() as db:
        job = db.get(Job, job_id)
        assert job is not None
        rows = list(
            db.exec(
                select(Message).where(Message.session_id == job.session_id).order_by(Message.seq)
            ).all()
        )
    assert [m.seq for m in rows] == list(range(1, len(rows) + 1)), "a hole in the history"
    steps = [m.job_step for m in rows if m.job_id == job_id]
    assert steps == list(range(1, len(steps) + 1)), f"steps stored twice or skipped: {steps}"
    assert sum(1 for m in rows if m.role == "user") == user_messages
    contents = Counter((m.role, m.content) for m in rows if m.job_id == job_id)
    assert all(n == 1 for n in contents.values()), f"a duplicated message: {contents}"
    assert rows[-1].role == "assistant" and rows[-1].content.strip()
    return rows


def finished_events(job_id: str, timeout: float = 5.0) -> list[JobEvent]:
    """A finished turn's kept events, once its final status is among them: the job commits its
    final status first and then publishes, so a caller that saw the status may be a moment early."""
    deadline = time.monotonic() + timeout
    while True:
        events = get_bus().replay(job_id, after_seq=-1)
        if any(e.terminal for e in events) or time.monotonic() > deadline:
            return events
        time.sleep(0.02)


def assert_events_gapless(job_id: str) -> None:
    """The kept events of a finished turn: numbered without holes, ending in one final status."""
    events = finished_events(job_id)
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"a gap in {seqs}"
    assert events[-1].terminal
    assert sum(1 for e in events if e.terminal) == 1

"""/jobs/{id}: a turn's status, and its events as Server-Sent Events with resume.

Each event's SSE `id` is the job event's sequence number. A client that reconnects with
`Last-Event-ID: n` gets the events after n, from the bus's replay store: every event exactly
once, whatever was lost in between. The stream ends after the job's terminal status.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse, ServerSentEvent

from compymac_rx.api.auth import Reader
from compymac_rx.api.problems import not_found
from compymac_rx.api.schemas import JobOut
from compymac_rx.chats import service as chats
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import TERMINAL_STATUSES, BusUnavailable
from compymac_rx.offload import off_loop

router = APIRouter(prefix="/jobs", tags=["jobs"])
# The replay store is the source of every event (no gap, no duplicate by construction); it
# is read this often while a turn runs, and the database every IDLE_CHECK polls when quiet
# (a job whose process died publishes nothing more).
POLL_SECONDS = 0.1
IDLE_CHECK = 20
PING_SECONDS = 15


@router.get("/{job_id}")
async def get_job(token: Reader, job_id: str) -> JobOut:
    job = await off_loop(chats.get_job, token.user_id, job_id)
    if job is None:
        raise not_found()
    return JobOut(id=job.id, status=job.status, error=job.error)


async def _events(user_id: str, job_id: str, after: int) -> AsyncIterator[ServerSentEvent]:
    bus = get_bus()
    idle = 0
    while True:
        try:
            replayed = await bus.areplay(job_id, after_seq=after)
        except BusUnavailable:
            replayed = []  # nothing new to send yet: the idle check below still ends the stream
        events = [e for e in replayed if e.user_id == user_id]
        for event in events:
            after = event.seq
            yield ServerSentEvent(json.dumps(event.payload), event=event.kind, id=str(event.seq))
            if event.terminal:
                return
        idle = 0 if events else idle + 1
        if idle >= IDLE_CHECK:
            idle = 0
            job = await off_loop(chats.get_job, user_id, job_id)
            if job is None or job.status in TERMINAL_STATUSES:
                # Finished and its events gone from the replay store: say how it ended.
                status = job.status if job else "cancelled"
                payload = {"status": status, "error": job.error if job else None}
                yield ServerSentEvent(json.dumps(payload), event="status")
                return
        await asyncio.sleep(POLL_SECONDS)


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The job's events"}},
)
async def job_events(
    token: Reader,
    job_id: str,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Events: `status`, `delta` ({text}), `reasoning` ({text}), `tool_args` ({call_id, tool,
    text}), `tool_start`, `tool_end`, `message` ({message}).

    Send `Last-Event-ID` to resume after the event with that id.
    """
    if await off_loop(chats.get_job, token.user_id, job_id) is None:
        raise not_found()
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else -1
    return EventSourceResponse(_events(token.user_id, job_id, after), ping=PING_SECONDS)

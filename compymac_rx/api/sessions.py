"""/sessions: list, create, read, rename/archive, delete; messages; send; stop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from compymac_rx.api.auth import Reader, Writer
from compymac_rx.api.problems import ApiProblem, not_found
from compymac_rx.api.schemas import (
    JobOut,
    MessageCreate,
    MessageOut,
    MessagePage,
    SentOut,
    SessionOut,
    SessionUpdate,
    StopOut,
)
from compymac_rx.chats import service as chats
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings

router = APIRouter(prefix="/sessions", tags=["sessions"])


def refusal(error: chats.ChatError) -> ApiProblem:
    """A service refusal as a problem: not found, rate limited, or a conflict with state."""
    if isinstance(error, chats.NotFound):
        return not_found()
    if isinstance(error, chats.RateLimited):
        return ApiProblem(429, str(error), headers={"Retry-After": str(error.wait)})
    return ApiProblem(409, str(error))


@router.get("")
async def list_sessions(token: Reader, archived: bool = False) -> list[SessionOut]:
    rows = await off_loop(chats.list_sessions, token.user_id, archived=archived)
    return [SessionOut.of(row) for row in rows]


@router.post("", status_code=201)
async def create_session(token: Writer) -> SessionOut:
    return SessionOut.of(await off_loop(chats.create_session, token.user_id))


@router.get("/{session_id}")
async def get_session(token: Reader, session_id: str) -> SessionOut:
    row = await off_loop(chats.get_session, token.user_id, session_id)
    if row is None:
        raise not_found()
    return SessionOut.of(row)


@router.patch("/{session_id}")
async def update_session(token: Writer, session_id: str, change: SessionUpdate) -> SessionOut:
    try:
        if change.title is not None:
            await off_loop(chats.rename_session, token.user_id, session_id, change.title)
        if change.archived is not None:
            await off_loop(chats.set_archived, token.user_id, session_id, change.archived)
    except chats.ChatError as error:
        raise refusal(error) from None
    return await get_session(token, session_id)


@router.delete("/{session_id}", status_code=204)
async def delete_session(token: Writer, session_id: str) -> Response:
    try:
        await off_loop(chats.delete_session, token.user_id, session_id)
    except chats.ChatError as error:
        raise refusal(error) from None
    return Response(status_code=204)


@router.get("/{session_id}/messages")
async def list_messages(
    token: Reader,
    session_id: str,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    after_seq: Annotated[int | None, Query(ge=0)] = None,
) -> MessagePage:
    """A page of history, oldest first: the newest page, the one before `before_seq`, or the
    messages after `after_seq`."""
    try:
        rows = await off_loop(
            chats.load_messages,
            token.user_id,
            session_id,
            before_seq=before_seq,
            after_seq=after_seq,
        )
    except chats.ChatError as error:
        raise refusal(error) from None
    full = len(rows) >= get_settings().history_page_size
    return MessagePage(
        messages=[MessageOut.of(r) for r in rows], has_older=full and after_seq is None
    )


@router.post("/{session_id}/messages", status_code=202)
async def send_message(token: Writer, session_id: str, body: MessageCreate) -> SentOut:
    """Store the message and start the agent's turn; follow it at /jobs/{job.id}/events."""
    try:
        sent = await off_loop(chats.send_turn, token.user_id, session_id, body.text)
    except chats.ChatError as error:
        raise refusal(error) from None
    return SentOut(job=JobOut(id=sent.job_id, status="queued"), message=MessageOut.of(sent.message))


@router.post("/{session_id}/stop")
async def stop(token: Writer, session_id: str) -> StopOut:
    """Ask the running turn to stop; `stopped` is false when nothing was running."""
    if await off_loop(chats.get_session, token.user_id, session_id) is None:
        raise not_found()
    return StopOut(stopped=await off_loop(chats.stop_turn, token.user_id, session_id))

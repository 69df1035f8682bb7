"""/search, exports and imports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from compymac_rx import ratelimit
from compymac_rx.api.auth import Reader, Writer
from compymac_rx.api.problems import ApiProblem, not_found
from compymac_rx.api.schemas import ImportOut, SearchHitOut
from compymac_rx.chats.service import NotFound
from compymac_rx.db import utcnow
from compymac_rx.exports import importer
from compymac_rx.exports import service as exports
from compymac_rx.exports.http import KINDS, SAFE_HEADERS, attachment, chunks_off_loop
from compymac_rx.exports.models import ExportTooLarge, ImportFailed
from compymac_rx.offload import off_loop
from compymac_rx.search import service as search
from compymac_rx.settings import get_settings

router = APIRouter(tags=["search and data"])


@router.get("/search")
async def search_sessions(
    token: Reader,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=search.MAX_RESULTS)] = 20,
) -> list[SearchHitOut]:
    """Sessions whose title or messages hold every word of `q` (as prefixes), best first."""
    hits = await off_loop(search.search, token.user_id, q, include_archived=archived, limit=limit)
    return [SearchHitOut.of(hit) for hit in hits]


@router.get(
    "/sessions/{session_id}/export",
    responses={200: {"content": {"application/json": {}, "text/markdown": {}}}},
)
async def export_session(
    token: Reader, session_id: str, format: Literal["json", "markdown"] = "json"
) -> Response:
    """The session as this app's JSON (importable) or as readable Markdown."""
    try:
        if format == "json":
            body = await off_loop(exports.session_json, token.user_id, session_id)
        else:
            body = (await off_loop(exports.session_markdown, token.user_id, session_id)).encode()
    except NotFound:
        raise not_found() from None
    except ExportTooLarge as error:
        raise ApiProblem(413, str(error)) from None
    media_type, suffix = KINDS[format]
    headers = {**SAFE_HEADERS, "Content-Disposition": attachment(f"session-{session_id}.{suffix}")}
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The account zip"}},
)
async def export_account(token: Reader) -> StreamingResponse:
    """Every session (JSON) and its workspace files, as one streamed zip."""
    try:
        plan = await off_loop(exports.plan_account_export, token.user_id)
    except ExportTooLarge as error:
        raise ApiProblem(413, str(error)) from None
    name = f"compymac-export-{utcnow():%Y%m%d-%H%M}.zip"
    return StreamingResponse(
        chunks_off_loop(exports.account_zip(token.user_id, plan)),
        media_type="application/zip",
        headers={**SAFE_HEADERS, "Content-Disposition": attachment(name)},
    )


@router.post("/import", status_code=201)
async def import_file(token: Writer, file: Annotated[UploadFile, File()]) -> ImportOut:
    """A session JSON or account zip of this app, or ChatGPT's conversations.json; all of
    the file's sessions are stored, or (with a 400 saying why) none."""
    # An import is an upload: the same per-user limit as the settings page's.
    if wait := await off_loop(ratelimit.take, "upload_user", f"user:{token.user_id}"):
        raise ApiProblem(
            429, f"Too many uploads. Try again in {wait} s.", headers={"Retry-After": str(wait)}
        )
    limit = get_settings().upload_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ApiProblem(413, f"Files can be at most {limit:,} bytes.")
    try:
        ids = await off_loop(importer.import_file, token.user_id, file.filename or "", data)
    except ImportFailed as error:
        raise ApiProblem(400, str(error)) from None
    return ImportOut(session_ids=ids)

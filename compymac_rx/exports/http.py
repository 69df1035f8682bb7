"""Downloads of exports, for the signed-in owner only (the session cookie, as /files does).

GET /export/sessions/<id>/markdown | json   one session
GET /export/account                         every session and its workspace files, a zip

The zip is streamed: each chunk is produced off the event loop as the client reads.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from compymac_rx import routes
from compymac_rx.chats.service import NotFound
from compymac_rx.db import utcnow
from compymac_rx.exports import service as exports
from compymac_rx.exports.models import ExportTooLarge
from compymac_rx.identity.http import cookie_user_id
from compymac_rx.offload import off_loop

# Untrusted content on our origin: never sniffed into HTML, never run, never cached.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}
KINDS = {"markdown": ("text/markdown; charset=utf-8", "md"), "json": ("application/json", "json")}


def attachment(name: str) -> str:
    # ASCII only in the name: the title is the user's, the header is ours.
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80] or "export"
    return f'attachment; filename="{safe}"'


async def chunks_off_loop(source: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Pull a blocking iterator one chunk at a time on the worker pool."""
    done = object()
    try:
        while (chunk := await off_loop(next, source, done)) is not done:
            assert isinstance(chunk, bytes)
            if chunk:
                yield chunk
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            await off_loop(close)


async def _user(request: Request) -> str | None:
    return await off_loop(cookie_user_id, request.headers.get("cookie"))


async def session_export(request: Request) -> Response:
    if (user_id := await _user(request)) is None:
        return PlainTextResponse("Sign in first.", status_code=401)
    kind = request.path_params["kind"]
    if kind not in KINDS:
        return PlainTextResponse("Not found.", status_code=404)
    session_id = request.path_params["session_id"]
    try:
        if kind == "json":
            body = await off_loop(exports.session_json, user_id, session_id)
        else:
            body = (await off_loop(exports.session_markdown, user_id, session_id)).encode()
    except NotFound:
        return PlainTextResponse("Not found.", status_code=404)
    except ExportTooLarge as error:
        return PlainTextResponse(str(error), status_code=413)
    media_type, suffix = KINDS[kind]
    return Response(
        body,
        media_type=media_type,
        headers={
            **SAFE_HEADERS,
            "Content-Disposition": attachment(f"session-{session_id}.{suffix}"),
        },
    )


async def account_export(request: Request) -> Response:
    if (user_id := await _user(request)) is None:
        return PlainTextResponse("Sign in first.", status_code=401)
    try:
        plan = await off_loop(exports.plan_account_export, user_id)
    except ExportTooLarge as error:
        return PlainTextResponse(str(error), status_code=413)
    name = f"compymac-export-{utcnow():%Y%m%d-%H%M}.zip"
    return StreamingResponse(
        chunks_off_loop(exports.account_zip(user_id, plan)),
        media_type="application/zip",
        headers={**SAFE_HEADERS, "Content-Disposition": attachment(name)},
    )


def export_routes() -> list[BaseRoute]:
    return [
        Route(routes.EXPORT_SESSION_ROUTE, session_export, methods=["GET"]),
        Route(routes.EXPORT_ACCOUNT, account_export, methods=["GET"]),
    ]

"""GET /files/<session id>/<path>: download a workspace file, for its owner only.

The file is opened beneath the workspace root's descriptor and streamed from that
descriptor in chunks, each read off the event loop: it is never looked up by name again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from compymac_rx import routes
from compymac_rx.files import service as files
from compymac_rx.identity.http import cookie_user_id
from compymac_rx.offload import off_loop

_CHUNK = 256 * 1024
# A downloaded file is untrusted content on our origin: never let it run script.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    "Cache-Control": "private, no-store",
}


class FdStream:
    """Chunks of an open file; closed exactly once, at the end or when the client leaves."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._left = size  # never more than the Content-Length announced, should it grow
        self._lock = threading.Lock()
        self._closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await off_loop(self._read):
                yield chunk
        finally:
            self.close()

    def _read(self) -> bytes:
        with self._lock:
            if self._closed or self._left <= 0:
                return b""
            chunk = os.read(self._fd, min(_CHUNK, self._left))
            self._left -= len(chunk)
            return chunk

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._fd)


async def download(request: Request) -> Response:
    user_id = await off_loop(cookie_user_id, request.headers.get("cookie"))
    if user_id is None:
        return PlainTextResponse("Sign in first.", status_code=401)
    session_id = request.path_params["session_id"]
    relative = request.path_params["path"]
    try:
        found = await off_loop(files.open_for_download, user_id, session_id, relative)
    except files.FileError:
        # Same answer for "not yours" and "missing".
        return PlainTextResponse("Not found.", status_code=404)
    stream = FdStream(found.fd, found.size)
    image_type = files.IMAGE_TYPES.get(PurePosixPath(found.name).suffix.lower())
    inline = request.query_params.get("inline") == "1" and image_type is not None
    disposition = "inline" if inline else "attachment"
    return StreamingResponse(
        stream.chunks(),
        media_type=image_type if inline else "application/octet-stream",
        headers={
            **SAFE_HEADERS,
            "Content-Length": str(found.size),
            "Content-Disposition": content_disposition(disposition, found.name),
        },
        # Runs once the body is sent; the stream closes itself too if it is cut short.
        background=BackgroundTask(stream.close),
    )


def content_disposition(kind: str, name: str) -> str:
    quoted = quote(name)
    if quoted != name:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{name}"'


def file_routes() -> list[BaseRoute]:
    return [Route(routes.FILES_ROUTE, download, methods=["GET"])]

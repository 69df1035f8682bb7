"""GET /files/<session id>/<path>: download a workspace file, for its owner only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from compymac_rx import routes
from compymac_rx.accounts import service as accounts
from compymac_rx.files import service as files
from compymac_rx.identity.http import token_from_cookie_header

# A downloaded file is untrusted content on our origin: never let it run script.
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    "Cache-Control": "private, no-store",
}


async def download(request: Request) -> Response:
    user = accounts.resolve_user(token_from_cookie_header(request.headers.get("cookie")))
    if user is None:
        return PlainTextResponse("Sign in first.", status_code=401)
    session_id = request.path_params["session_id"]
    relative = request.path_params["path"]
    try:
        path = files.file_for_download(user.id, session_id, relative)
    except files.FileError:
        # Same answer for "not yours" and "missing".
        return PlainTextResponse("Not found.", status_code=404)
    image_type = files.IMAGE_TYPES.get(path.suffix.lower())
    inline = request.query_params.get("inline") == "1" and image_type is not None
    return FileResponse(
        path,
        media_type=image_type if inline else "application/octet-stream",
        filename=path.name,
        content_disposition_type="inline" if inline else "attachment",
        headers=_SAFE_HEADERS,
    )


def file_routes() -> list[BaseRoute]:
    return [Route(routes.FILES_ROUTE, download, methods=["GET"])]

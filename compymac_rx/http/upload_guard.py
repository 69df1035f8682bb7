"""`/_upload`: signed-in callers only, and a body cap enforced before Reflex reads or spools.

Reflex's upload route parses the whole multipart body into temporary files before any
handler runs, and it needs no session. This guard answers first: 401 without a live session
cookie (resolved off the loop), 403 for a foreign Origin, 413 when Content-Length is over the
cap, and it counts a chunked body as it streams, cutting it off at the cap. A CORS preflight
from an allowed origin passes (development's page is on another port): it has neither cookie
nor body.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compymac_rx.http.origins import header, origin_allowed
from compymac_rx.identity.cache import get_user_cache
from compymac_rx.identity.http import token_from_cookie_header
from compymac_rx.offload import off_loop
from compymac_rx.settings import Settings

# Reflex's upload endpoint (reflex.constants.Endpoint.UPLOAD): POST uploads, GET serves
# Reflex's own upload folder (unused here, guarded all the same).
UPLOAD_PATH = "/_upload"
# Multipart boundaries, part headers and file names around the files themselves.
FORM_OVERHEAD_BYTES = 64 * 1024


def upload_body_cap(settings: Settings) -> int:
    """Most bytes one upload request may carry: UPLOAD_MAX_BYTES of files plus the form."""
    return settings.upload_max_bytes + FORM_OVERHEAD_BYTES


def _is_upload(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return scope["type"] == "http" and (path == UPLOAD_PATH or path.startswith(UPLOAD_PATH + "/"))


class UploadGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings, allowed: list[str]) -> None:
        self.app = app
        self.cap = upload_body_cap(settings)
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_upload(scope):
            await self.app(scope, receive, send)
            return
        origin = header(scope, b"origin")
        if origin is not None and not origin_allowed(origin, self.allowed):
            await PlainTextResponse("Origin not allowed.", status_code=403)(scope, receive, send)
            return
        if (
            scope.get("method") == "OPTIONS"
            and origin is not None
            and header(scope, b"access-control-request-method") is not None
        ):
            # A CORS preflight (development: the page's origin is not the backend's) carries
            # no cookie and no body; Reflex's CORS middleware answers it.
            await self.app(scope, receive, send)
            return
        token = token_from_cookie_header(header(scope, b"cookie"))
        user = await off_loop(get_user_cache().resolve, token) if token else None
        if user is None:
            await PlainTextResponse("Sign in first.", status_code=401)(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.cap):
            await self._too_large(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        text = f"Upload too large: at most {self.cap:,} bytes per upload."
        await PlainTextResponse(text, status_code=413)(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the body through while counting; past the cap, Reflex sees a disconnect (it
        stops parsing and drops its temporary files) and the client gets a 413."""
        received = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.cap:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return  # Reflex's answer to the "disconnect" is replaced by the 413 below.
            started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._too_large(scope, receive, send)

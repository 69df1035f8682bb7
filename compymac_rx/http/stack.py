"""The app's own ASGI middleware, in order, around every route Reflex and we serve."""

from __future__ import annotations

from reflex import constants
from reflex.config import get_config
from reflex.utils import prerequisites
from starlette.types import ASGIApp

from compymac_rx.http.origins import WebSocketOriginGuard, allowed_origins
from compymac_rx.http.security_headers import SecurityHeaders
from compymac_rx.http.upload_guard import UploadGuard
from compymac_rx.settings import get_settings


def secure(app: ASGIApp) -> ASGIApp:
    """Headers outermost (so the guards' refusals carry them too), then the guards."""
    settings = get_settings()
    allowed = allowed_origins(settings)
    guarded = UploadGuard(WebSocketOriginGuard(app, allowed), settings=settings, allowed=allowed)
    return SecurityHeaders(
        guarded,
        settings=settings,
        # Single-port production serves the built frontend from here.
        static_dir=prerequisites.get_web_dir() / constants.Dirs.STATIC,
        api_url=get_config().api_url,
    )

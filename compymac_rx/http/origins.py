"""Which browser origins may talk to the app, and a guard for the `/_event` WebSocket.

CORS alone does not protect a WebSocket: browsers send the cookie on a cross-origin handshake
and leave the check to the server. Socket.IO checks a *present* Origin against
`cors_allowed_origins` but lets a handshake without one through, so this guard refuses both a
foreign and a missing Origin before Reflex sees the connection.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from compymac_rx.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# Refused origins already logged (a refused tab retries every few seconds); bounded.
_LOGGED_MAX = 100


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, without a default port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}"


def allowed_origins(settings: Settings | None = None) -> list[str]:
    """PUBLIC_URL's origin first, then ALLOWED_ORIGINS, without duplicates."""
    settings = settings or get_settings()
    extra = [o for o in settings.allowed_origins.split(",") if o.strip()]
    return list(dict.fromkeys(origin_of(url) for url in [settings.public_url, *extra]))


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    return origin is not None and origin != "null" and origin_of(origin) in allowed


class WebSocketOriginGuard:
    """Closes (HTTP 403) a WebSocket handshake (`/_event`) whose Origin is missing or not ours."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.allowed = allowed
        self._logged: set[str] = set()

    def _log_refusal(self, origin: str | None) -> None:
        # The page only says it cannot connect; the operator needs to know why.
        shown = origin or "(none)"
        if shown not in self._logged and len(self._logged) < _LOGGED_MAX:
            self._logged.add(shown)
            logger.warning(
                "Refused a WebSocket from Origin %r: open the app at %s, or add the origin "
                "to ALLOWED_ORIGINS",
                shown[:200],
                self.allowed[0],
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            # Reflex's `/_event` is the only socket; any other would need the same check.
            scope["type"] == "websocket"
            and not origin_allowed(origin := header(scope, b"origin"), self.allowed)
        ):
            self._log_refusal(origin)
            # A close before accept makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)

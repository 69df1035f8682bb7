"""Every HTTP request: a request id bound to its log lines, one access line, and metrics.

The id comes from a well-formed `X-Request-Id` (a proxy's) or is made here; it is sent back in
the response. Only the path is logged, never the query string (OAuth codes travel there), and
the metrics label a request by its route family, so the series stay few.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("compymac.http")

HTTP_REQUESTS = Counter(
    "compymac_http_requests_total",
    "HTTP requests answered by this process, by method, route family and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "compymac_http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of its body), by route family.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# First path segments worth a series of their own; everything else is "other".
ROUTE_FAMILIES = frozenset(
    {
        "",
        "s",
        "signin",
        "signup",
        "settings",
        "account",
        "admin",
        "forgot",
        "reset",
        "auth",
        "files",
        "export",
        "api",
        "health",
        "ready",
        "metrics",
        "_event",
        "_upload",
        "_next",
        "assets",
        "ping",
        "_health",
    }
)
QUIET = frozenset({"/health", "/ready", "/ping", "/_health", "/metrics"})
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.-]{8,64}$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_family(path: str) -> str:
    first = path.lstrip("/").split("/", 1)[0]
    return "/" + first if first in ROUTE_FAMILIES else "/other"


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


class RequestObserver:
    """ASGI middleware, outermost: WebSocket connections get an id too, but no access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
                return
            await self._http(scope, receive, send, request_id)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = str(scope.get("path", ""))
            method = str(scope.get("method", "GET"))
            method = method if method in METHODS else "OTHER"
            route = route_family(path)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(method, route).observe(elapsed)
            level = logging.DEBUG if path in QUIET else logging.INFO
            log.log(
                level,
                "request",
                method=method,
                path=path,
                status=status,
                duration_ms=round(elapsed * 1000, 1),
            )


def observe(app: ASGIApp) -> ASGIApp:
    return RequestObserver(app)

"""The frontend built into the image, served by every app replica of the compose stack.

`reflex run --env prod --single-port` compiles the pages and builds the frontend at every start:
minutes per replica, and each build names its assets differently, so replicas behind one
round-robin balancer would serve pages asking for files only another replica has. The image
builds the frontend once instead (`reflex export --frontend-only`, with PUBLIC_URL baked in as
the WebSocket's address) and the app runs `reflex run --env prod --backend-only` with
SERVE_FRONTEND_BUILD set: every replica then serves that one build, mounted the way single-port
mode mounts its own, behind the same middleware (security headers, request ids, metrics).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from reflex.utils.exec import get_frontend_mount
from reflex.utils.prerequisites import get_web_dir
from reflex_base import constants
from reflex_base.environment import environment
from starlette.applications import Starlette
from starlette.types import ASGIApp

from compymac_rx.settings import Settings, get_settings

_WEB_SCHEMES = {"ws": "http", "wss": "https"}


class FrontendBuildError(RuntimeError):
    """The build in the image cannot serve this deployment."""


def built_origin() -> str:
    """The origin the built frontend opens its WebSocket at (Reflex's env.json, REFLEX_API_URL
    at build time), as an http(s) origin."""
    env = json.loads((get_web_dir() / constants.Dirs.ENV_JSON).read_text())
    event = urlsplit(env["EVENT"])
    return f"{_WEB_SCHEMES.get(event.scheme, event.scheme)}://{event.netloc}"


def check_build(settings: Settings) -> None:
    """Refuse to serve a build made for another address: its pages would connect there."""
    index = get_web_dir() / constants.Dirs.STATIC / "index.html"
    if not index.is_file():
        raise FrontendBuildError(
            f"SERVE_FRONTEND_BUILD is set but there is no frontend build ({index} is missing): "
            "run `reflex export --frontend-only --no-zip` first"
        )
    built = built_origin()
    if built != settings.public_url:
        raise FrontendBuildError(
            f"the frontend was built for {built} but PUBLIC_URL is {settings.public_url}: "
            f"rebuild the image with PUBLIC_URL set (docker compose build)"
        )


def serve_frontend_build(asgi_app: ASGIApp) -> ASGIApp:
    """Reflex's API app with the prebuilt frontend mounted last (after /_event, /ping...), in a
    backend-only run with SERVE_FRONTEND_BUILD; unchanged otherwise (single-port mode and
    development serve their own build)."""
    settings = get_settings()
    if not settings.serve_frontend_build or not environment.REFLEX_BACKEND_ONLY.get():
        return asgi_app
    if not isinstance(asgi_app, Starlette):
        raise TypeError(f"Reflex's API app is a {type(asgi_app).__name__}, not a Starlette app")
    check_build(settings)
    # Without a router argument, dynamic routes (/s/<id>) come from the build's routes.json.
    asgi_app.routes.append(get_frontend_mount())
    return asgi_app

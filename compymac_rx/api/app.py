"""The REST API: a FastAPI app mounted at /api/v1 inside the Reflex app.

Every route takes its user from a personal access token (auth.py) and calls the same
owner-scoped services as the UI, off the event loop. OpenAPI at /api/v1/openapi.json,
interactive docs at /api/v1/docs (Swagger UI served from the app itself, no CDN).
"""

from __future__ import annotations

from fastapi import FastAPI

from compymac_rx.api import data, docs, files, jobs, problems, sessions

API_PREFIX = "/api/v1"


def api_app() -> FastAPI:
    app = FastAPI(
        title="CompyMac RX API",
        version="1",
        summary="Your agent sessions, messages, jobs, files, search and exports.",
        description=(
            "Authenticate with a personal access token (Settings → API tokens): "
            "`Authorization: Bearer cmx_…`. Tokens with only the `read` scope may not change "
            "anything. Errors are RFC 9457 problem documents (`application/problem+json`)."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        responses=problems.PROBLEM_RESPONSES,
    )
    problems.install(app)
    for module in (sessions, jobs, files, data):
        app.include_router(module.router)
    docs.install(app)
    return app

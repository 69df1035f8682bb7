"""The interactive API docs (Swagger UI) from files in the app: no CDN, no inline script.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script;
this machine may have no internet, and the CSP runs no inline script. So the page links the
Swagger UI 5 bundle shipped in the `fastapi-offline` wheel (only its files are used; version
5 reads OpenAPI 3.1, which FastAPI writes) and a small start script of our own.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>CompyMac RX API</title>
<link rel="stylesheet" href="docs-assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs-assets/swagger-ui-bundle.js"></script>
<script src="docs-start.js"></script>
</body>
</html>
"""
START = """window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
});
"""


def install(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/docs-start.js", include_in_schema=False)
    async def docs_start() -> Response:
        return Response(START, media_type="text/javascript")

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=str(assets)), name="docs-assets")

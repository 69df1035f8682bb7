"""Operations endpoints: /ready (dependencies reachable) and /metrics (Prometheus, token)."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from compymac_rx import routes
from compymac_rx.jobs import metrics
from compymac_rx.offload import off_loop
from compymac_rx.ops.readiness import run_checks
from compymac_rx.settings import get_settings


async def ready(_request: Request) -> Response:
    results = await off_loop(run_checks)
    failing = sorted(name for name, result in results.items() if result != "ok")
    body = {"status": "not ready" if failing else "ready", "failing": failing, "checks": results}
    return JSONResponse(body, status_code=503 if failing else 200)


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


async def metrics_endpoint(request: Request) -> Response:
    token = get_settings().metrics_token
    if not token:
        return Response("Not Found", status_code=404)
    if not _authorised(request, token):
        return Response(
            "Unauthorized", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
        )
    metrics.register_job_collector()
    body = await off_loop(generate_latest)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def ops_routes() -> list[BaseRoute]:
    return [
        Route(routes.READY, ready, methods=["GET"]),
        Route(routes.METRICS, metrics_endpoint, methods=["GET"]),
    ]

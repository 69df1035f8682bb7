"""The REST API served by uvicorn on a free port, as the app mounts it, for httpx to call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.routing import Mount

from compymac_rx.api.app import API_PREFIX, api_app
from compymac_rx.db import session_scope, utcnow
from compymac_rx.tokens import service as tokens
from compymac_rx.tokens.models import AccessToken
from tests.e2e.conftest import free_port


@pytest.fixture
def api_url(data_dir: object) -> Iterator[str]:
    port = free_port()
    app = Starlette(routes=[Mount(API_PREFIX, app=api_app())])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}{API_PREFIX}"
    server.should_exit = True
    thread.join(timeout=10)


def make_token(user_id: str, *scopes: str, days: int = 30) -> str:
    _, secret = tokens.create_token(
        user_id, "test", days=days, scopes=list(scopes or ["read", "write"])
    )
    return secret


def expire(secret: str) -> None:
    with session_scope() as db:
        db.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == tokens.hash_token(secret))  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def client(base: str, secret: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.Client(base_url=base, headers=headers, timeout=20)

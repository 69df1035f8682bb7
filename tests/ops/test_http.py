"""/ready and /metrics through a real Starlette app, against real Redis and databases."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import routes
from compymac_rx.chats import service as chats
from compymac_rx.ops.http import ops_routes
from tests.conftest import clear_caches
from tests.factories import make_user, wait_for_job
from tests.identity.oidc_issuer import CLIENT_ID, fake_issuer
from tests.services import Redis, free_port

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=ops_routes()))


def test_ready_in_the_embedded_profile(client: TestClient) -> None:
    response = client.get(routes.READY)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "failing": [],
        "checks": {"database": "ok", "identity_provider": "ok"},
    }


def test_ready_checks_redis_and_the_broker_of_the_production_profile(
    client: TestClient, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_BUS", "redis")
    monkeypatch.setenv("JOB_RUNNER", "celery")
    assert client.get(routes.READY).json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "broker": "ok",
        "identity_provider": "ok",
    }


def test_ready_names_what_is_unreachable_without_leaking_its_address(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, redis: Redis
) -> None:
    dead = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("EVENT_BUS", "redis")
    monkeypatch.setenv("JOB_RUNNER", "celery")
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    response = client.get(routes.READY)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["failing"] == ["broker"]
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable (")
    assert "hunter2" not in response.text and "127.0.0.1" not in response.text


def test_ready_says_when_the_database_is_down(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://x@127.0.0.1:{free_port()}/none")
    response = client.get(routes.READY)
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_ready_asks_the_oidc_issuer_and_says_when_it_is_gone(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_PROVIDER", "keycloak")
    monkeypatch.setenv("OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "test-secret")
    with fake_issuer() as issuer:
        monkeypatch.setenv("OIDC_ISSUER", issuer.url)
        clear_caches()
        assert client.get(routes.READY).json()["checks"]["identity_provider"] == "ok"
    response = client.get(routes.READY)  # same provider object, the issuer now stopped
    assert response.status_code == 503
    assert response.json()["failing"] == ["identity_provider"]
    assert issuer.url not in response.text


def test_metrics_are_off_without_a_token_and_need_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get(routes.METRICS).status_code == 404
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    clear_caches()
    assert client.get(routes.METRICS).status_code == 401
    wrong = client.get(routes.METRICS, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_metrics_count_jobs_turn_times_events_and_clients(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    user = make_user()
    session = chats.create_session(user.id)
    wait_for_job(user.id, chats.send_message(user.id, session.id, "help"))
    response = client.get(routes.METRICS, headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    text = response.text
    assert 'compymac_jobs{status="done"} 1.0' in text
    assert 'compymac_jobs{status="running"} 0.0' in text
    assert 'compymac_turn_duration_seconds_count{status="done"} 1.0' in text
    assert 'compymac_turn_duration_seconds_bucket{le="+Inf",status="done"} 1.0' in text
    assert "compymac_events_delivered_total" in text
    assert "compymac_connected_clients" in text

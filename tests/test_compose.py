"""docker-compose.yml, checked without a Docker engine: it parses, every app and worker setting
is one the app knows, every service has a health check, data lives in volumes. The stack itself
is built, started and exercised by tests/compose/ (`make compose-test`)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import yaml

from compymac_rx.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Read by Reflex or granian themselves, not by our settings class.
RUNTIME_NAMES = {"REFLEX_REDIS_URL", "REFLEX_API_URL", "REFLEX_LOG_JSON", "GRANIAN_WORKERS"}
# Only docker-compose.yml reads these (interpolation), to configure the service images.
COMPOSE_NAMES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "REDIS_PASSWORD"}
# Passed to Keycloak for keycloak/realm.json.
BROKERS = ("GOOGLE", "GITHUB", "MICROSOFT", "APPLE")
COMPOSE_NAMES |= {
    f"{b}_{part}" for b in BROKERS for part in ("IDP_ENABLED", "CLIENT_ID", "CLIENT_SECRET")
}
COMPOSE_NAMES |= {"MICROSOFT_TENANT_ID", "KEYCLOAK_ACCESS_TOKEN_LIFESPAN"}
COMPOSE_NAMES |= {
    f"SMTP_{part}"
    for part in ("HOST", "PORT", "FROM", "AUTH", "USER", "PASSWORD", "STARTTLS", "SSL")
}
COMPOSE_NAMES |= {"KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD", "KEYCLOAK_DB_PASSWORD"}
COMPOSE_NAMES |= {"GRANIAN_WORKERS", "HTTPS_PORT", "TLS_HOST", "APP_IMAGE"}


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_the_compose_file_has_the_whole_stack() -> None:
    services = compose()["services"]
    assert set(services) == {"proxy", "postgres", "redis", "keycloak", "migrate", "app", "worker"}
    # One build of the project's Dockerfile; the one-off migration and the workers run it too.
    assert services["app"]["build"]["context"] == "."
    # The frontend is built into the image for the public address its pages connect to.
    assert services["app"]["build"]["args"]["PUBLIC_URL"].startswith("${PUBLIC_URL:?")
    image = services["app"]["image"]
    assert services["worker"]["image"] == services["migrate"]["image"] == image
    assert services["keycloak"]["build"] == "keycloak"


def test_only_the_tls_proxy_publishes_a_port() -> None:
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    app_env = compose()["x-app-env"]
    assert app_env["PUBLIC_URL"].startswith("${PUBLIC_URL:?")
    assert app_env["TRUSTED_PROXY_HOPS"] == "1"
    assert services["keycloak"]["environment"]["KC_HOSTNAME"].endswith("/idp")


def test_keycloak_runs_in_production_mode() -> None:
    dockerfile = (ROOT / "keycloak" / "Dockerfile").read_text()
    assert "keycloak:26.5.6" in dockerfile  # the version the host suite tests
    assert 'CMD ["start", "--optimized", "--import-realm"]' in dockerfile
    assert "KC_DB=postgres" in dockerfile
    assert "KC_DB_PASSWORD" in compose()["services"]["keycloak"]["environment"]


def test_every_service_has_a_health_check() -> None:
    for name, service in compose()["services"].items():
        if name == "migrate":  # a one-off: the others wait for it to complete successfully
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name} has no health check"
    assert "/ready" in str(compose()["services"]["app"]["healthcheck"]["test"])


def test_app_and_worker_settings_are_ones_the_app_knows() -> None:
    known = setting_names() | RUNTIME_NAMES
    for name in ("app", "worker"):
        service = compose()["services"][name]
        assert service["env_file"] == [{"path": ".env", "required": False}]
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets settings the app does not know: {unknown}"
        env = service["environment"]
        assert env["JOB_RUNNER"] == "celery" and env["EVENT_BUS"] == "redis"
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        # Each value the compose file sets must pass the app's own validation.
        literal = {k: v for k, v in env.items() if k in setting_names() and "${" not in v}
        key = "k1:" + base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")
        Settings(**{k.lower(): v for k, v in literal.items()}, secret_keys=key)  # type: ignore[arg-type]


def test_compose_variables_are_documented_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", example, re.MULTILINE))
    assert used - documented == set()
    assert documented - setting_names() - COMPOSE_NAMES == set()


def test_database_redis_and_workspaces_live_in_volumes() -> None:
    loaded = compose()
    services = loaded["services"]
    assert set(loaded["volumes"]) >= {"postgres-data", "redis-data", "app-data"}
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "app-data:/data" in services["app"]["volumes"]
    assert "app-data:/data" in services["worker"]["volumes"]  # workspaces shared with workers
    # Keycloak keeps its realm, users and sessions in its own PostgreSQL database.
    assert services["keycloak"]["environment"]["KC_DB_URL"].endswith("/keycloak")


def test_workers_can_be_scaled() -> None:
    for name in ("app", "worker"):
        service = compose()["services"][name]
        assert "container_name" not in service and "ports" not in service
    assert compose()["services"]["worker"]["deploy"]["replicas"] >= 2


def test_replicas_serve_the_image_build_behind_round_robin() -> None:
    """No sticky sessions: every app replica serves the frontend built into the image (none
    builds its own at start), so the proxy balances plainly."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "reflex export --frontend-only" in dockerfile
    assert "REFLEX_BACKEND_ONLY=true" in dockerfile and "SERVE_FRONTEND_BUILD=true" in dockerfile
    command = compose()["services"]["app"]["command"]
    assert "--single-port" not in command and "--frontend-port" not in command
    nginx = (ROOT / "docker" / "proxy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream app_replicas \{(.*?)\}", nginx, re.S)
    assert upstream
    assert not re.search(r"\b(ip_hash|hash|sticky)\b", upstream.group(1))

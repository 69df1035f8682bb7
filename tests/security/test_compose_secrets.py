"""Compose secrets (issue 9, item 7), checked on the files themselves: every `${...}` the realm
reads is passed to Keycloak, every secret is required (`${VAR:?...}`), Redis wants a password
that the app and workers use, and no database, Redis or management port faces every interface."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from compymac_rx.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
# Keycloak's own placeholders (message keys such as ${role_offline-access}, the mapper's
# ${client_id}) are lower case; environment variables are upper case.
REALM_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::[^}]*)?\}")
COMPOSE_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(:?[-?])?([^}]*)\}")
SECRET_WORDS = ("PASSWORD", "SECRET")
# Only read when the operator turns that feature on in Keycloak (a Google or GitHub broker,
# SMTP_AUTH=true); a broker left disabled with its "not-configured" default signs nobody in.
# The brokers' secrets: each broker is off unless the operator turns it on (keycloak/realm.json).
OPTIONAL_SECRETS = {
    "GOOGLE_CLIENT_SECRET",
    "GITHUB_CLIENT_SECRET",
    "MICROSOFT_CLIENT_SECRET",
    "APPLE_CLIENT_SECRET",
    "SMTP_PASSWORD",
}
# Ports that must never be published on all interfaces: PostgreSQL, Redis, Keycloak management.
PRIVATE_PORTS = {"5432", "6379", "9000"}


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def compose_variables() -> dict[str, set[str]]:
    """Every `${NAME...}` in docker-compose.yml -> the operators it is used with ("" = plain)."""
    found: dict[str, set[str]] = {}
    for name, operator, _ in COMPOSE_VAR.findall((ROOT / "docker-compose.yml").read_text()):
        found.setdefault(name, set()).add(operator)
    return found


def test_keycloak_gets_every_variable_the_realm_reads() -> None:
    realm_vars = set(REALM_VAR.findall((ROOT / "keycloak/realm.json").read_text()))
    assert "COMPYMAC_OIDC_CLIENT_SECRET" in realm_vars
    passed = set(compose()["services"]["keycloak"]["environment"])
    assert realm_vars - passed == set()
    secret = compose()["services"]["keycloak"]["environment"]["COMPYMAC_OIDC_CLIENT_SECRET"]
    # Keycloak's client and the app share the one secret from .env.
    assert secret.startswith("${OIDC_CLIENT_SECRET:?")
    assert compose()["x-app-env"]["OIDC_CLIENT_SECRET"] == secret


def test_every_secret_is_required() -> None:
    variables = compose_variables()
    secrets = {
        name
        for name in variables
        if any(word in name for word in SECRET_WORDS) or name == "SECRET_KEYS"
    }
    assert secrets >= {
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "KEYCLOAK_ADMIN_PASSWORD",
        "OIDC_CLIENT_SECRET",
        "SECRET_KEYS",
    }
    for name in secrets - OPTIONAL_SECRETS:
        assert variables[name] == {":?"}, f"{name} is not required everywhere: {variables[name]}"


def test_redis_wants_a_password_and_every_client_sends_it() -> None:
    services = compose()["services"]
    redis = services["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")
    assert "REDISCLI_AUTH" in str(redis["healthcheck"]["test"])
    for name in ("app", "worker"):
        env = services[name]["environment"]
        for key in ("REDIS_URL", "REFLEX_REDIS_URL"):
            assert env[key].startswith("redis://:${REDIS_PASSWORD:?"), (name, key)
        # Celery's broker is REDIS_URL unless CELERY_BROKER_URL overrides it.
        assert "CELERY_BROKER_URL" not in env


def _published(entry: Any) -> tuple[str, str]:
    """(host address or "" for every interface, container port) of one `ports:` entry."""
    if isinstance(entry, dict):
        return str(entry.get("host_ip", "")), str(entry["target"])
    parts = str(entry).rsplit(":", 2)
    host_ip = parts[0] if len(parts) == 3 else ""
    return host_ip, parts[-1].split("/")[0]


@pytest.mark.parametrize(
    "entry, exposed",
    [
        ("5432:5432", True),
        ("0.0.0.0:6379:6379", True),
        ({"target": 9000, "published": 9000}, True),
        ("127.0.0.1:5432:5432", False),
        ("${KEYCLOAK_PORT:-8080}:8080", False),
    ],
)
def test_the_port_check_reads_every_form(entry: Any, exposed: bool) -> None:
    host_ip, port = _published(entry)
    assert (port in PRIVATE_PORTS and host_ip in ("", "0.0.0.0", "::")) is exposed


def test_no_private_port_faces_every_interface() -> None:
    for name, service in compose()["services"].items():
        for entry in service.get("ports", []):
            host_ip, port = _published(entry)
            assert not (port in PRIVATE_PORTS and host_ip in ("", "0.0.0.0", "::")), (name, entry)
    for name in ("postgres", "redis"):
        assert "ports" not in compose()["services"][name]


@pytest.mark.parametrize("secret", ["${COMPYMAC_OIDC_CLIENT_SECRET}", "pre${X}post"])
def test_the_app_refuses_an_unexpanded_oidc_secret(secret: str) -> None:
    with pytest.raises(SettingsError, match=r"OIDC_CLIENT_SECRET still contains"):
        load_settings(
            identity_provider="keycloak",
            oidc_issuer="http://kc.example/realms/compymac",
            oidc_client_id="compymac-web",
            oidc_client_secret=secret,
        )

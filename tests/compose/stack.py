"""The compose stack under test: docker compose with the test override, and what tests ask it.

Everything goes through the `docker compose` client, as an operator would. Images build one at
a time with the classic builder (two shared cores; the local base image is not in a registry).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "tests" / "compose" / ".run"
ENV_FILE = ROOT / "tests" / "compose" / "test.env"
FILES = ["-f", "docker-compose.yml", "-f", "compose.test.yml", "--env-file", str(ENV_FILE)]
SCALE = ["--scale", "app=2", "--scale", "worker=3"]
USER_PASSWORD = "correct horse battery staple"
REALM = "compymac"


def env_values() -> dict[str, str]:
    values = {}
    for line in ENV_FILE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
    return values


VALUES = env_values()
PUBLIC_URL = VALUES["PUBLIC_URL"]
# The host reaches the proxy as localhost (the certificate names both); Chromium resolves
# PUBLIC_URL's *.localhost name to loopback by itself.
HOST_URL = f"https://localhost:{VALUES['HTTPS_PORT']}"
CERT = RUN / "tls" / "cert.pem"


def docker_env() -> dict[str, str]:
    return {**os.environ, "DOCKER_BUILDKIT": "0", "COMPOSE_PARALLEL_LIMIT": "1"}


def compose(*args: str, timeout: float = 900, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", "compose", *FILES, *args],
        cwd=ROOT,
        env=docker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"docker compose {' '.join(args)}: {done.returncode}\n{done.stderr[-4000:]}"
        )
    return done.stdout


def docker(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return done.stdout


def sql(query: str) -> list[list[str]]:
    out = compose(
        "exec", "-T", "postgres", "psql", "-U", "compymac", "-d", "compymac",
        "-tA", "-F", "\t", "-c", query,
    )  # fmt: skip
    return [line.split("\t") for line in out.splitlines() if line]


def containers(service: str) -> list[str]:
    return compose("ps", "-q", service).split()


@dataclass
class Timings:
    figures: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, seconds: float) -> None:
        self.figures[name] = round(seconds, 1)
        RUN.mkdir(parents=True, exist_ok=True)
        (RUN / "timings.json").write_text(json.dumps(self.figures, indent=2))


def timed(timings: Timings, name: str, *args: str, timeout: float = 1800) -> None:
    started = time.monotonic()
    compose(*args, timeout=timeout)
    timings.record(name, time.monotonic() - started)


class KeycloakAdmin:
    """Keycloak's admin REST API through the proxy, as the bootstrap admin."""

    def __init__(self) -> None:
        self.client = httpx.Client(base_url=f"{HOST_URL}/idp", verify=str(CERT), timeout=30)

    def token(self) -> str:
        response = self.client.post(
            "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": VALUES["KEYCLOAK_ADMIN"],
                "password": VALUES["KEYCLOAK_ADMIN_PASSWORD"],
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = self.client.request(
            method,
            f"/admin/realms/{REALM}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token()}"},
        )
        response.raise_for_status()
        return response

    def create_user(self, email: str) -> str:
        self.call(
            "POST",
            "/users",
            {
                "username": email,
                "email": email,
                "emailVerified": True,
                "enabled": True,
                "firstName": email.split("@")[0],
                "lastName": "Tester",
                "credentials": [{"type": "password", "value": USER_PASSWORD, "temporary": False}],
            },
        )
        return str(self.call("GET", f"/users?email={email}&exact=true").json()[0]["id"])

    def sessions(self, user_id: str) -> list[Any]:
        return list(self.call("GET", f"/users/{user_id}/sessions").json())

"""The app with IDENTITY_PROVIDER=keycloak against a real Keycloak (started for the session)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from keycloak import KeycloakAdmin

from tests.e2e.conftest import RunningApp, free_port, run_app
from tests.keycloak_server import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CLIENT_ID,
    REALM,
    Keycloak,
    running_keycloak,
)
from tests.mail import SmtpCapture

# Short, so that the tests see the app refresh tokens without asking anyone to sign in again.
ACCESS_TOKEN_SECONDS = 15


@dataclass
class KeycloakApp:
    app: RunningApp
    keycloak: Keycloak

    @property
    def url(self) -> str:
        return self.app.url


@pytest.fixture(scope="session")
def keycloak_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeycloakApp]:
    work = tmp_path_factory.mktemp("keycloak")
    port = free_port()
    app_url = f"http://localhost:{port}"
    with running_keycloak(
        work, app_url=app_url, access_token_seconds=ACCESS_TOKEN_SECONDS
    ) as keycloak:
        print(f"\nKeycloak ready in {keycloak.start_seconds:.1f} s")
        env = {
            "IDENTITY_PROVIDER": "keycloak",
            "OIDC_ISSUER": keycloak.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": keycloak.client_secret,
            "OIDC_DISPLAY_NAME": "Keycloak",
            "OIDC_REFRESH_MARGIN_SECONDS": "3",
            # Its own build folder: the local-provider app of tests/e2e may be serving .web.
            "REFLEX_WEB_WORKDIR": str(work / "web"),
        }
        data_dir = work / "data"
        data_dir.mkdir()
        with run_app(data_dir, port, env) as app:
            yield KeycloakApp(app, keycloak)


def realm_admin(keycloak: Keycloak, realm: str = REALM) -> KeycloakAdmin:
    """python-keycloak's admin client on `realm`, signed in as the bootstrap admin (master)."""
    return KeycloakAdmin(
        server_url=keycloak.base_url,
        username=ADMIN_USER,
        password=ADMIN_PASSWORD,
        realm_name=realm,
        user_realm_name="master",
    )


@contextmanager
def realm_settings(admin: KeycloakAdmin, **changes: Any) -> Iterator[None]:
    """Realm attributes changed for one test (the session's Keycloak is shared), then put back
    as they were."""
    before = admin.get_realm(REALM)
    admin.update_realm(REALM, changes)
    try:
        yield
    finally:
        admin.update_realm(REALM, {key: before.get(key) for key in changes})


@pytest.fixture
def keycloak_mail(keycloak_app: KeycloakApp) -> Iterator[SmtpCapture]:
    """The realm's mail goes to a real SMTP server (aiosmtpd) in this test."""
    smtp_server = {
        "host": "127.0.0.1",
        "from": "keycloak@example.com",
        "fromDisplayName": "CompyMac RX",
        "auth": "false",
        "starttls": "false",
        "ssl": "false",
    }
    with SmtpCapture(free_port()) as smtp:
        smtp_server["port"] = str(smtp.port)
        with realm_settings(realm_admin(keycloak_app.keycloak), smtpServer=smtp_server):
            yield smtp

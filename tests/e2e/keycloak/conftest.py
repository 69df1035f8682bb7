"""The app with IDENTITY_PROVIDER=keycloak against the run's real Keycloak (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import RunningApp, free_port, run_app
from tests.keycloak_server import CLIENT_ID, Keycloak, realm_admin, realm_settings
from tests.mail import SmtpCapture


@dataclass
class KeycloakApp:
    app: RunningApp
    keycloak: Keycloak

    @property
    def url(self) -> str:
        return self.app.url


@pytest.fixture(scope="session")
def keycloak_app(
    keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KeycloakApp]:
    """The app on the URL the realm import names, so back-channel logout reaches it."""
    work = tmp_path_factory.mktemp("keycloak-app")
    port = urlsplit(keycloak.app_url).port
    assert port is not None
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

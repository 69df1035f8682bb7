"""The app with IDENTITY_PROVIDER=keycloak against a real Keycloak (started for the session)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import RunningApp, free_port, run_app
from tests.keycloak_server import CLIENT_ID, Keycloak, running_keycloak

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

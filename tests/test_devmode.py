"""Development mode's two origins, and the data folders kept out of Reflex's hot reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from reflex.utils.exec import get_reload_paths
from reflex_base.environment import environment
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import devmode as dev
from compymac_rx import routes
from compymac_rx.components.backend import backend_href, dev_head_components
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes
from compymac_rx.identity.oidc import redirect_uri
from compymac_rx.settings import get_settings, load_settings
from tests.conftest import clear_caches
from tests.factories import PASSWORD


@pytest.fixture
def development(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `reflex run` sets for its processes (Reflex's REFLEX_ENV_MODE)."""
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    monkeypatch.setenv("PORT", "3100")
    monkeypatch.setenv("BACKEND_PORT", "8100")
    clear_caches()


def test_outside_reflex_run_there_is_one_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REFLEX_ENV_MODE", raising=False)
    assert not dev.two_origins()
    assert dev.page_url("/signin") == "/signin"
    assert backend_href(routes.AUTH_LOGIN) == routes.AUTH_LOGIN
    assert dev_head_components() == []
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    assert not dev.two_origins()
    assert dev.backend_url() == get_settings().public_url


@pytest.mark.usefixtures("development")
def test_development_sends_pages_to_the_frontend_and_routes_to_the_backend() -> None:
    assert dev.two_origins()
    assert dev.page_url("/s/abc?x=1") == "http://localhost:3100/s/abc?x=1"
    assert dev.page_url("https://issuer.example/logout") == "https://issuer.example/logout"
    assert dev.backend_url() == "http://localhost:8100"
    assert redirect_uri(get_settings()) == "http://localhost:8100/auth/callback"
    # The browser works the backend's origin out as Reflex does for its socket.
    href = str(backend_href(routes.AUTH_LOGIN))
    assert href == '(getBackendURL(env.PING).origin+"/auth/login")'
    assert len(dev_head_components()) == 1


def test_the_backend_keeps_the_host_people_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    settings = load_settings(public_url="http://127.0.0.1:3000", backend_port=9000)
    assert dev.backend_url(settings) == "http://127.0.0.1:9000"


@pytest.mark.usefixtures("development")
def test_sign_up_on_the_backend_returns_to_the_page_on_the_frontend() -> None:
    client = TestClient(
        Starlette(routes=auth_routes(get_identity_provider())),
        base_url="http://localhost:8100",
        follow_redirects=False,
    )
    response = client.post(
        routes.AUTH_SIGNUP,
        data={"email": "dev@example.com", "password": PASSWORD, "next": "/settings"},
        headers={"origin": "http://localhost:3100"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "http://localhost:3100/settings"
    # Cookies are not port-scoped: the one set here is sent to the backend's WebSocket.
    assert "compymac_session=" in response.headers["set-cookie"]
    foreign = client.post(
        routes.AUTH_LOGIN,
        data={"email": "dev@example.com", "password": PASSWORD},
        headers={"origin": "http://localhost:3999"},
    )
    assert foreign.headers["location"] == "http://localhost:3100/signin?error=origin"


def test_everything_but_the_apps_code_and_assets_is_left_unwatched(tmp_path: Path) -> None:
    root = tmp_path / "app"
    for folder in ("compymac_rx", "assets", "data/workspaces", "docs", ".web", ".cache"):
        (root / folder).mkdir(parents=True)
    for name in ("rxconfig.py", "Makefile", ".env"):
        (root / name).write_text("")
    (root / ".venv").symlink_to(tmp_path / "gone")  # a broken link Reflex could not compare
    names = [p.name for p in dev.hot_reload_exclusions(root)]
    assert names == [".env", "Makefile", "data", "docs"]


def test_reflex_stops_watching_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through Reflex's own list of reload paths, keeping an exclusion set by hand."""
    root = tmp_path / "app"
    for folder in ("compymac_rx", "assets", "data", "docs", "elsewhere"):
        (root / folder).mkdir(parents=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("REFLEX_HOT_RELOAD_EXCLUDE_PATHS", str(root / "elsewhere"))
    dev.exclude_from_hot_reload(root)
    dev.exclude_from_hot_reload(root)  # rxconfig.py runs in every process
    excluded = environment.REFLEX_HOT_RELOAD_EXCLUDE_PATHS.get()
    assert excluded == [root / "elsewhere", root / "data", root / "docs"]
    monkeypatch.setattr("reflex.utils.exec.get_config", lambda: _NoModule())
    assert sorted(p.name for p in get_reload_paths()) == ["assets", "compymac_rx"]


class _NoModule:
    """Reflex's config as get_reload_paths reads it, for an app without an importable module."""

    module = "compymac_rx_not_importable.app"

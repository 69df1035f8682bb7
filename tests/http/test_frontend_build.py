"""The prebuilt frontend a backend-only replica serves (compymac_rx/http/frontend.py): served
only for the address it was built for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compymac_rx.http.frontend import FrontendBuildError, built_origin, check_build
from compymac_rx.settings import Settings


@pytest.fixture
def web_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(tmp_path))
    return tmp_path


def build(web_dir: Path, api_url: str) -> None:
    """What `reflex export --frontend-only` leaves: env.json and the static pages."""
    ws = api_url.replace("http", "ws", 1)
    (web_dir / "env.json").write_text(json.dumps({"EVENT": f"{ws}/_event", "PING": api_url}))
    (web_dir / "build" / "client").mkdir(parents=True)
    (web_dir / "build" / "client" / "index.html").write_text("<!DOCTYPE html>")


def test_a_build_for_this_public_url_is_served(web_dir: Path) -> None:
    build(web_dir, "https://chat.example.org:8443")
    assert built_origin() == "https://chat.example.org:8443"
    check_build(Settings(public_url="https://chat.example.org:8443"))


def test_a_build_for_another_address_is_refused(web_dir: Path) -> None:
    build(web_dir, "http://localhost:3000")
    with pytest.raises(FrontendBuildError, match="built for http://localhost:3000"):
        check_build(Settings(public_url="https://chat.example.org"))


def test_no_build_is_refused(web_dir: Path) -> None:
    with pytest.raises(FrontendBuildError, match="no frontend build"):
        check_build(Settings(public_url="https://chat.example.org"))

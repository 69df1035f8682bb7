"""The app under plain `reflex run` (development: two ports, hot reload), from a copy of the tree.

Development mode compiles into `.web` of the folder it runs in, and the reload test edits a
source file: a copy keeps both away from the checkout and from the production app that the
browser tests in tests/e2e serve from it. The copy has the default `data/` folder inside it,
as a contributor's checkout does, so the hot reload exclusions are what is being tested.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import ROOT, RunningApp, free_port, stop_group, wait_until_up
from tests.integration.apps import BIN, make_copy

# Settings a developer's shell or another test may have set that would move the app off its
# defaults (data inside the tree, PUBLIC_URL following PORT).
CLEARED = ("DATA_DIR", "DATABASE_URL", "WORKSPACES_DIR", "PUBLIC_URL", "ALLOWED_ORIGINS")
# Reflex prints one progress bar per compile of the frontend: at start, and on every reload.
COMPILE_MARK = "Compiling:"
FIRST_START_SECONDS = 420


class DevApp(RunningApp):
    """`reflex run` in `folder`: pages on `url` (PORT), HTTP routes and `/_event` on `backend`."""

    def __init__(self, folder: Path, url: str, backend: str, log: Path, pid: int) -> None:
        super().__init__(url, folder / "data")
        self.folder = folder
        self.backend = backend
        self.log = log
        self.pid = pid

    def backend_workers(self) -> set[tuple[int, float]]:
        """(pid, start time) of the Python processes under `reflex run`: granian's worker,
        which a hot reload replaces (the frontend dev server's processes are bun's)."""
        found: set[tuple[int, float]] = set()
        for process in psutil.Process(self.pid).children(recursive=True):
            try:
                if "python" in process.exe():
                    found.add((process.pid, process.create_time()))
            except psutil.Error:
                continue  # gone meanwhile (the dev server starts short-lived helpers)
        return found

    def compiles(self) -> int:
        return self.log.read_text(errors="replace").count(COMPILE_MARK)


def dev_env(port: int, backend_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return {
        **env,
        "PORT": str(port),
        "BACKEND_PORT": str(backend_port),
        "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{BIN}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def dev_app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[DevApp]:
    folder = make_copy(tmp_path_factory.mktemp("dev") / "app")
    for shared in (".venv", ".tools"):
        (folder / shared).symlink_to(ROOT / shared)
    port = backend_port = free_port()
    while backend_port == port:
        backend_port = free_port()
    env = dev_env(port, backend_port)
    # As `make dev` does: migrate (this creates data/ inside the tree), then plain `reflex run`.
    subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=folder, env=env, check=True)
    log = folder.parent / "reflex-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "reflex"), "run"],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = DevApp(
        folder, f"http://localhost:{port}", f"http://localhost:{backend_port}", log, process.pid
    )
    try:
        wait_until_up(f"{app.backend}/health", process, log, FIRST_START_SECONDS, "reflex run")
        wait_until_up(f"{app.url}/signin", process, log, 120, "the frontend dev server")
        warm_up(browser, app)
        yield app
    finally:
        stop_group(process)


def warm_up(browser: Browser, app: DevApp) -> None:
    """The dev server transforms a page's modules on its first visit: do that once here, with
    time to spare, so the tests' own timeouts measure the app."""
    page = browser.new_page()
    try:
        # `/` loads the chat page's modules, then sends a visitor to /signin.
        for path, ready in (("/signup", "Create account"), ("/", "Sign in")):
            page.goto(f"{app.url}{path}", timeout=180_000)
            expect(page.get_by_role("button", name=ready)).to_be_visible(timeout=180_000)
    finally:
        page.close()

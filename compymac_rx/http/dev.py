"""Development mode (`reflex run`): pages and HTTP routes live on two origins.

In production one port serves everything. Under `reflex run` the frontend dev server (PORT)
serves the pages and the backend (BACKEND_PORT) serves `/_event`, `/_upload` and our routes,
so a form or link to a route names the backend's origin (components/backend.py) and a route
sends the browser back to a page on the frontend's origin (`page_url`). Cookies are not
port-scoped, so the session cookie set by the backend on `localhost:8000` is the one the
WebSocket handshake to that backend carries, whichever port the page came from.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from reflex_base import constants
from reflex_base.environment import environment

from compymac_rx.settings import Settings, get_settings


def two_origins() -> bool:
    """True in a `reflex run` development process (Reflex sets the mode for the run)."""
    mode = environment.REFLEX_ENV_MODE
    # Unset outside `reflex run` (tests, scripts): one origin, as in production.
    return mode.is_set() and mode.get() == constants.Env.DEV


def page_url(path: str, settings: Settings | None = None) -> str:
    """Where a route sends the browser to show a page: the path itself on one origin, the
    frontend's (PUBLIC_URL's) origin in front of it in development."""
    if not two_origins() or not path.startswith("/"):
        return path
    return (settings or get_settings()).public_url + path


def backend_url(settings: Settings | None = None) -> str:
    """The origin that serves the HTTP routes: PUBLIC_URL, or in development the same host
    on BACKEND_PORT (where the browser reaches the backend, as Reflex's frontend does)."""
    settings = settings or get_settings()
    if not two_origins():
        return settings.public_url
    parts = urlsplit(settings.public_url)
    return urlunsplit((parts.scheme, f"{parts.hostname}:{settings.backend_port}", "", "", ""))


def hot_reload_exclusions(settings: Settings, app_root: Path) -> list[Path]:
    """The app root's top-level folders that hold data (DATA_DIR, WORKSPACES_DIR): Reflex's
    reloader would restart the backend on every database write and every file a turn writes.

    Reflex compares exclusions with the top-level entries it watches, so a folder nested
    deeper is excluded through its top-level ancestor; hidden folders (`.web`, `.tools`,
    `.venv`, caches) are never watched. A folder that does not exist yet is left out (Reflex
    cannot compare it), and not watched either: only entries present at start are.
    """
    root = app_root.resolve()
    found: list[Path] = []
    for folder in (settings.data_dir, settings.workspaces_root):
        path = (root / folder).resolve()
        if path == root or not path.is_relative_to(root):
            continue
        top = root / path.relative_to(root).parts[0]
        if top.is_dir() and top not in found:
            found.append(top)
    return found


def exclude_data_from_hot_reload(settings: Settings, app_root: Path) -> None:
    """Add the data folders to REFLEX_HOT_RELOAD_EXCLUDE_PATHS, keeping any set by hand."""
    setting = environment.REFLEX_HOT_RELOAD_EXCLUDE_PATHS
    current = [p.absolute() for p in setting.get()]
    extra = [p for p in hot_reload_exclusions(settings, app_root) if p not in current]
    if extra:
        setting.set([*current, *extra])

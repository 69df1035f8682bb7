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


# What the running app is made of. Reflex's reloader watches every top-level entry of the app
# root; the rest (data/ with the database and the workspaces, docs/, tests/, alembic/...) would
# restart the backend on every database write, every file a turn writes, every screenshot a
# browser test saves, and a symlink into /proc in a workspace crashes the reloader.
APP_SOURCES = ("compymac_rx", "assets", "rxconfig.py")


def hot_reload_exclusions(app_root: Path) -> list[Path]:
    """Every top-level entry of the app root but APP_SOURCES, for Reflex to leave unwatched.

    Reflex compares exclusions with the top-level entries it watches (all present at start,
    hidden folders such as `.web`, `.venv`, `.tools` and caches already left out), so a
    DATA_DIR or WORKSPACES_DIR anywhere in the tree is excluded through its top folder.
    """
    root = app_root.resolve()
    return sorted(
        entry
        for entry in root.iterdir()
        # Hidden folders are Reflex's to skip; an entry it cannot stat would crash its check.
        if entry.name not in APP_SOURCES
        and not (entry.name.startswith(".") and entry.is_dir())
        and entry.exists()
    )


def exclude_from_hot_reload(app_root: Path) -> None:
    """Add hot_reload_exclusions to REFLEX_HOT_RELOAD_EXCLUDE_PATHS, keeping any set by hand."""
    setting = environment.REFLEX_HOT_RELOAD_EXCLUDE_PATHS
    current = [p.absolute() for p in setting.get()]
    extra = [p for p in hot_reload_exclusions(app_root) if p not in current]
    if extra:
        setting.set([*current, *extra])

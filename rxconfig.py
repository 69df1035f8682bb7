import os
from pathlib import Path

import reflex as rx
from reflex_base.environment import environment
from reflex_base.plugins.sitemap import SitemapPlugin

from compymac_rx.devmode import exclude_from_hot_reload
from compymac_rx.http.origins import allowed_origins
from compymac_rx.settings import get_settings

settings = get_settings()
# Reflex's socket server (engine.io's max_http_buffer_size) reads its frame limit from this
# variable when the app starts; set here, every way of starting the app gets the setting.
os.environ["REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE"] = str(settings.ws_max_frame_bytes)
# `reflex run` (development) restarts the backend on any change in the app root: it is to watch
# the app's code and assets only, never data/ (SQLite's -wal files, every file a turn writes).
# Reflex reads the list after loading this file, so a plain `reflex run` gets it too.
exclude_from_hot_reload(Path(__file__).parent)

# A tab's state is a view its page rebuilds from the database on load. Without Reflex's Redis
# it stays in memory: Reflex's default disk manager pickles and writes every tab's state to a
# file on each event, on the event loop.
state_manager = {} if os.environ.get("REFLEX_REDIS_URL") else {"state_manager_mode": "memory"}

# `reflex run` (development): Vite transforms every page's modules when it starts, so it finds
# the packages a signed-in page imports (code highlighting's hundreds of language chunks) before
# a browser asks for them. Found later, Vite re-bundles them and the page in flight fails with
# "Failed to fetch dynamically imported module" until a reload.
os.environ.setdefault("REFLEX_VITE_WARMUP_ROUTES", "true")

config = rx.Config(
    app_name="compymac_rx",
    telemetry_enabled=False,
    # Development (`reflex run`) runs two servers; production passes `--single-port
    # --frontend-port PORT --backend-port PORT` and serves everything on PORT.
    # A backend-only run (the app image: REFLEX_BACKEND_ONLY, which is also what `--backend-only`
    # reads) refuses any frontend port; the image serves the frontend it built (http/frontend.py).
    frontend_port=None if environment.REFLEX_BACKEND_ONLY.get() else settings.port,
    backend_port=settings.backend_port,
    # CORS and the Socket.IO server answer only these origins (Reflex's default is "*").
    cors_allowed_origins=allowed_origins(settings),
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="violet", radius="medium"))],
    disable_plugins=[SitemapPlugin],
    show_built_with_reflex=False,
    **state_manager,  # type: ignore[arg-type]
)

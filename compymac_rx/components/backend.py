"""Links and form targets for our HTTP routes, which the backend serves.

On one origin (production) a route is its path. Under `reflex run` the page comes from the
frontend dev server, so the target is the backend's origin, worked out in the browser by the
function Reflex uses for its own socket and uploads (`getBackendURL`: the page's host with the
backend's port), so the cookie a route sets lands on the host the WebSocket connects to.
"""

from __future__ import annotations

import reflex as rx
from reflex_base import constants
from reflex_base.utils.imports import ImportVar
from reflex_base.vars import VarData
from reflex_base.vars.base import Var

from compymac_rx.devmode import two_origins

# Development only; the page is not served by our backend then, so no CSP applies to it.
# Reflex's upload request (an XMLHttpRequest to the backend) sends no cookies across origins,
# and /_upload admits only a signed-in caller: send them, to the backend's upload URL only.
UPLOAD_CREDENTIALS_SCRIPT = """
(() => {
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    open.call(this, method, url, ...rest);
    if (new URL(url, window.location.href).pathname === "/_upload") this.withCredentials = true;
  };
})();
"""


def _backend_origin() -> Var[str]:
    return Var(
        _js_expr="getBackendURL(env.PING).origin",
        _var_data=VarData(
            imports={
                f"$/{constants.Dirs.STATE_PATH}": [ImportVar(tag="getBackendURL")],
                "$/env.json": [ImportVar(tag="env", is_default=True)],
            }
        ),
    ).to(str)


def backend_href(path: str | Var[str]) -> str | Var[str]:
    """Where a link or form reaches the route at `path`."""
    if not two_origins():
        return path
    return _backend_origin() + path


def dev_head_components() -> list[rx.Component]:
    """What a development page needs in its <head>: nothing in production."""
    return [rx.script(UPLOAD_CREDENTIALS_SCRIPT)] if two_origins() else []

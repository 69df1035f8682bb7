"""The connection banner: what a page says while its WebSocket to the backend is down.

It replaces Reflex's default connection toast (an app wrap, so every page has it). Reflex keeps
the failed connection attempts of the socket in `connectErrors` (the last ten) and retries with
a growing pause (0.2 s, 0.4 s, ...): the first failure shows "Reconnecting…", and after
OFFLINE_AFTER_ERRORS failures (about five seconds) the page says it is offline. It goes away
as soon as the socket connects again, and the page then reloads its state (Reflex hydrates and
runs the page's on_load again: history from the database, the running turn from the bus).
"""

from __future__ import annotations

import reflex as rx
from reflex_base.vars.number import NumberVar
from reflex_components_core.core import banner  # type: ignore[import-untyped]

OFFLINE_AFTER_ERRORS = 7
RECONNECTING = "Reconnecting…"
OFFLINE = "Offline — changes will not be sent"

# Reflex's vars are read inside functions: a Var kept in a module's namespace answers any
# attribute lookup (the tests' cache clearing walks modules' names) with an error.


def disconnected() -> rx.Var[bool]:
    """True while the socket is down (after its first failed attempt): forms that send to the
    backend are disabled meanwhile."""
    flag: rx.Var[bool] = banner.has_connection_errors
    return flag


def _offline() -> rx.Var[bool]:
    count = banner.connection_errors_count.to(NumberVar, int)
    return count >= OFFLINE_AFTER_ERRORS


def connection_banner() -> rx.Component:
    offline = _offline()
    return rx.cond(
        disconnected(),
        rx.hstack(
            rx.cond(offline, rx.icon("wifi-off", size=16), rx.spinner(size="1")),
            rx.text(rx.cond(offline, OFFLINE, RECONNECTING), size="2", weight="medium"),
            class_name=rx.cond(offline, "connection-banner offline", "connection-banner"),
            role="status",
            aria_live="polite",
            align="center",
            justify="center",
            data_testid="connection-banner",
        ),
    )


def connection_overlay(stateful: bool) -> rx.Component | None:
    """The app wrap in place of Reflex's "Overlay" (its toast and pulser)."""
    return rx.fragment(connection_banner()) if stateful else None

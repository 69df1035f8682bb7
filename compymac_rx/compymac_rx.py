"""The app: pages, HTTP routes and the lifespan work of each backend process."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette
from starlette.routing import Mount

from compymac_rx import routes
from compymac_rx.api.app import API_PREFIX, api_app
from compymac_rx.chats.tasks import get_runner
from compymac_rx.components.backend import dev_head_components
from compymac_rx.components.connection import connection_overlay
from compymac_rx.exports.http import export_routes
from compymac_rx.files.http import file_routes
from compymac_rx.http.frontend import serve_frontend_build
from compymac_rx.http.stack import secure
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import auth_routes
from compymac_rx.logs import configure_logging
from compymac_rx.offload import off_loop
from compymac_rx.ops.http import ops_routes
from compymac_rx.ops.loopwatch import watch_loop
from compymac_rx.ops.requests import observe
from compymac_rx.pages.account import account_page
from compymac_rx.pages.admin import admin_page
from compymac_rx.pages.chat import chat_page
from compymac_rx.pages.settings import settings_page
from compymac_rx.pages.signin import (
    forgot_page,
    magic_page,
    magic_request_page,
    reset_page,
    second_factor_page,
    signin_page,
    signup_page,
)
from compymac_rx.settings import get_settings
from compymac_rx.state.account import AccountState
from compymac_rx.state.admin import AdminState
from compymac_rx.state.audit import AuditState
from compymac_rx.state.auth import SignInState
from compymac_rx.state.chat import ChatState
from compymac_rx.state.delivery import apply_events
from compymac_rx.state.guard import EventGuard
from compymac_rx.state.live import deliver_events
from compymac_rx.state.live_turn import LiveState
from compymac_rx.state.model_params import PromptState
from compymac_rx.state.security import SecurityState
from compymac_rx.state.settings import SettingsState
from compymac_rx.state.sidebar_live import deliver_user_events
from compymac_rx.state.tokens import TokensState
from compymac_rx.state.usage import UsageState


async def live_events(app: rx.App) -> None:
    """Per process: pick up jobs a previous run left, then feed live events to tabs."""
    await off_loop(get_runner().recover)
    await deliver_events(app, LiveState, apply_events)


async def sidebar_events(app: rx.App) -> None:
    """Per process: feed each user's session changes to that user's tabs."""
    await deliver_user_events(app)


async def loop_watch() -> None:
    await watch_loop(get_settings().loop_stall_warn_ms)


# The app module is each backend process's entry point: its logging is set up before any route.
configure_logging(get_settings())

app = rx.App(
    # Our routes mount Reflex's app (pages, static files, /_event, /_upload); `secure` wraps
    # all of it, so every response gets the security headers and origin checks.
    api_transformer=[
        # Innermost: the image's prebuilt frontend after Reflex's own routes (compose replicas).
        serve_frontend_build,
        Starlette(
            routes=[
                *auth_routes(get_identity_provider()),
                *file_routes(),
                *export_routes(),
                *ops_routes(),
                # The REST API (FastAPI): bearer tokens only, never the session cookie.
                Mount(API_PREFIX, app=api_app()),
            ]
        ),
        secure,
        # Outermost: every request, refused or not, gets an id, an access line and metrics.
        observe,
    ],
    stylesheets=["/app.css", "/thinking.css", "/connection.css", "/shortcuts.css"],
    head_components=dev_head_components(),
)
# Our connection banner in place of Reflex's toast (same slot of the app's wraps).
app.app_wraps[5, "Overlay"] = connection_overlay
# Before Reflex's own hydration: a reused tab token is reset before its state is sent.
app.add_middleware(EventGuard(), index=0)
app.add_page(chat_page, route=routes.HOME, on_load=ChatState.load_page, title="CompyMac RX")
app.add_page(chat_page, route=routes.SESSION, on_load=ChatState.load_page, title="CompyMac RX")
app.add_page(
    admin_page,
    route=routes.ADMIN,
    on_load=[AdminState.load, UsageState.load, AuditState.load],
    title="Users",
)
app.add_page(signin_page, route=routes.SIGNIN, on_load=SignInState.load, title="Sign in")
app.add_page(signup_page, route=routes.SIGNUP, on_load=SignInState.load, title="Create account")
app.add_page(
    settings_page,
    route=routes.SETTINGS,
    on_load=[SettingsState.load, PromptState.load, TokensState.load],
    title="Settings",
)
app.add_page(
    account_page,
    route=routes.ACCOUNT,
    on_load=[AccountState.load, SecurityState.load],
    title="Account",
)
app.add_page(forgot_page, route=routes.FORGOT, on_load=SignInState.load, title="Forgot password")
app.add_page(reset_page, route=routes.RESET, on_load=SignInState.load, title="New password")
app.add_page(
    magic_request_page, route=routes.MAGIC_REQUEST, on_load=SignInState.load, title="Sign-in link"
)
app.add_page(magic_page, route=routes.MAGIC, on_load=SignInState.load, title="Sign in")
app.add_page(
    second_factor_page, route=routes.SECOND_FACTOR, on_load=SignInState.load, title="Sign-in code"
)
app.register_lifespan_task(live_events)
app.register_lifespan_task(sidebar_events)
app.register_lifespan_task(loop_watch)

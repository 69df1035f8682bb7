"""The app: pages, HTTP routes and the lifespan work of each backend process."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette

from compymac_rx import routes
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import shared_routes
from compymac_rx.jobs.runner import get_runner
from compymac_rx.ops.http import ops_routes
from compymac_rx.pages.chat import chat_page
from compymac_rx.pages.signin import signin_page, signup_page
from compymac_rx.state.auth import SignInState
from compymac_rx.state.chat import ChatState
from compymac_rx.state.live import deliver_events


async def live_events(app: rx.App) -> None:
    """Per process: pick up jobs a previous run left, then feed live events to tabs."""
    get_runner().recover()
    await deliver_events(app, ChatState)


app = rx.App(
    api_transformer=Starlette(
        routes=[*shared_routes(), *ops_routes(), *get_identity_provider().routes()]
    ),
    stylesheets=["/app.css"],
)
app.add_page(chat_page, route=routes.HOME, on_load=ChatState.load_page, title="CompyMac RX")
app.add_page(chat_page, route=routes.SESSION, on_load=ChatState.load_page, title="CompyMac RX")
app.add_page(signin_page, route=routes.SIGNIN, on_load=SignInState.load, title="Sign in")
app.add_page(signup_page, route=routes.SIGNUP, on_load=SignInState.load, title="Create account")
app.register_lifespan_task(live_events)

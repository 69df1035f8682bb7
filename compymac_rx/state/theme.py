"""The user's colour mode: loaded from their account, stored when they pick another."""

from __future__ import annotations

import reflex as rx

from compymac_rx.accounts import appearance
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import ColorModeName


class ThemeState(AuthState):
    # "" until the account's choice is known; components/theme.py applies it in the browser.
    color_mode: str = ""

    @rx.event
    @signed_in
    async def load_color_mode(self, user: CurrentUser) -> None:
        self.color_mode = await off_loop(appearance.get_color_mode, user.id)

    @rx.event
    @signed_in
    async def choose_color_mode(self, user: CurrentUser, mode: ColorModeName) -> None:
        # The browser switched already (set_color_mode runs beside this event); this keeps it.
        if await off_loop(appearance.set_color_mode, user.id, mode):
            self.color_mode = mode

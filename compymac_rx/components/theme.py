"""The colour-mode control (light, dark, system) and what applies the account's choice."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.style import set_color_mode

from compymac_rx.state.theme import ThemeState

MODES = (("light", "Light", "sun"), ("dark", "Dark", "moon"), ("system", "System", "monitor"))


class ThemeSync(rx.Component):
    library = "$/public" + rx.asset("theme_sync.jsx", shared=True)
    tag = "ThemeSync"

    stored: rx.Var[str]


def theme_sync() -> rx.Component:
    """Loads the signed-in user's mode when mounted and applies it (renders nothing)."""
    return ThemeSync.create(stored=ThemeState.color_mode, on_mount=ThemeState.load_color_mode)


def _choose(mode: Any) -> list[Any]:
    # Switch in the browser at once, then store it with the account.
    return [set_color_mode(mode), ThemeState.choose_color_mode(mode)]


def theme_menu() -> rx.Component:
    """A small icon menu for headers and the sidebar."""
    return rx.fragment(
        theme_sync(),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.color_mode_cond(
                        light=rx.icon("sun", size=14), dark=rx.icon("moon", size=14)
                    ),
                    variant="soft",
                    size="1",
                    aria_label="Theme: light, dark or system",
                    data_testid="theme-menu",
                )
            ),
            rx.menu.content(
                *[
                    rx.menu.item(
                        rx.hstack(rx.icon(icon, size=14), label, align="center"),
                        on_click=_choose(mode),
                        data_testid=f"theme-{mode}",
                    )
                    for mode, label, icon in MODES
                ]
            ),
        ),
    )


def theme_choice() -> rx.Component:
    """The Settings page's radio group: the stored choice, changeable."""
    return rx.radio_group.root(
        rx.hstack(
            *[rx.radio_group.item(label, value=mode) for mode, label, _icon in MODES],
            spacing="4",
        ),
        value=ThemeState.color_mode,
        on_change=lambda mode: _choose(mode),
        aria_label="Theme",
        data_testid="theme-choice",
    )

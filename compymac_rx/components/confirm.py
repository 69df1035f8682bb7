"""The confirmation asked before every destructive action."""

from __future__ import annotations

from typing import Any

import reflex as rx


def confirm_dialog(
    *,
    title: Any,
    description: Any,
    confirm_label: Any,
    on_confirm: Any,
    on_cancel: Any,
    is_open: Any,
) -> rx.Component:
    """An alert dialog with Cancel and a red confirm button; `is_open` comes from state."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", on_click=on_cancel)),
                rx.alert_dialog.action(
                    rx.button(confirm_label, color_scheme="red", on_click=on_confirm)
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=is_open,
    )

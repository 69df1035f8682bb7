"""The dialogs: the confirmation asked before every destructive action, and a one-field form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx.components.layout import alert_line
from compymac_rx.state.confirm import ConfirmDelete


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
                    rx.button(
                        confirm_label, color_scheme="red", high_contrast=True, on_click=on_confirm
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=is_open,
    )


def confirm_delete_dialog(
    state: type[ConfirmDelete], *, title: str, description: Any, confirm_label: str = "Delete"
) -> rx.Component:
    """The dialog of a state's ask/cancel/confirm trio (state/confirm.py): open while asked."""
    return confirm_dialog(
        title=title,
        description=description,
        confirm_label=confirm_label,
        on_confirm=state.confirm_delete,
        on_cancel=state.cancel_delete,
        is_open=state.delete_target != "",
    )


def form_dialog(
    title: str,
    field: rx.Component,
    *,
    error: Any,
    submit: str,
    on_submit: Any,
    on_cancel: Any,
    is_open: Any,
    description: str | None = None,
) -> rx.Component:
    """A dialog around one field, its error line, Cancel and submit; closing it cancels."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            *([rx.dialog.description(description, size="2")] if description else []),
            rx.form(
                rx.vstack(
                    field,
                    alert_line(error),
                    rx.hstack(
                        rx.button("Cancel", type="button", variant="soft", on_click=on_cancel),
                        rx.button(submit, type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
        ),
        open=is_open,
        on_open_change=lambda _open: on_cancel(),
    )

"""Attachments in the composer (paperclip, picker, removable chips) and on sent messages."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx.components.layout import icon_action
from compymac_rx.components.upload import upload_picker
from compymac_rx.state.attach import ATTACH_UPLOAD_ID, AttachItem, AttachState
from compymac_rx.state.files import FilesState
from compymac_rx.state.views import MessageView


def attach_button() -> rx.Component:
    # type=button: inside the composer's form a plain button would send the message.
    return icon_action(
        "paperclip",
        "Attach files",
        AttachState.open_picker,
        icon_size=16,
        size="2",
        type="button",
        data_testid="attach-button",
    )


def _chip(item: AttachItem) -> rx.Component:
    return rx.badge(
        rx.icon("paperclip", size=12),
        rx.text(item.label, size="1", truncate=True, max_width="260px"),
        icon_action(
            "x",
            "Remove attachment " + item.path,
            AttachState.remove(item.path),
            icon_size=12,
            type="button",
        ),
        variant="soft",
        radius="full",
        align_items="center",
        gap="4px",
        data_testid="composer-attachment",
    )


def composer_chips() -> rx.Component:
    """The files chosen for the next message, each removable; and what went wrong."""
    return rx.fragment(
        rx.cond(
            AttachState.chosen.length() > 0,
            rx.hstack(
                rx.foreach(AttachState.chosen, _chip),
                wrap="wrap",
                spacing="2",
                width="100%",
                aria_label="Attached files",
            ),
        ),
        rx.cond(
            ~AttachState.picker_open & (AttachState.notice != ""),
            rx.text(AttachState.notice, color_scheme="red", size="2", role="alert"),
        ),
    )


def message_chips(message: MessageView) -> rx.Component:
    """A sent message's attached files (names and sizes, as text)."""
    labels: Any = message.attachments  # a Var in the page; a list only to the type checker
    return rx.cond(
        labels.length() > 0,
        rx.hstack(
            rx.foreach(
                labels,
                lambda label: rx.badge(
                    rx.icon("paperclip", size=12),
                    label,
                    variant="surface",
                    radius="full",
                    data_testid="attachment-chip",
                ),
            ),
            wrap="wrap",
            spacing="1",
            justify="end",
            aria_label="Attached files",
        ),
    )


def _pick_row(item: AttachItem) -> rx.Component:
    return rx.hstack(
        rx.checkbox(
            item.label,
            checked=item.chosen,
            on_change=lambda _checked: AttachState.toggle(item.path),
            aria_label="Attach " + item.path,
            size="1",
        ),
        width="100%",
        data_testid="attach-choice",
    )


def attach_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Attach files"),
            rx.dialog.description(
                "Text files go to the model with your message; images too, for models that "
                "can see them.",
                size="2",
            ),
            rx.vstack(
                rx.cond(
                    AttachState.choices.length() == 0,
                    rx.text("The workspace has no files yet.", size="1", color_scheme="gray"),
                    rx.vstack(
                        rx.foreach(AttachState.choices, _pick_row),
                        spacing="1",
                        width="100%",
                        max_height="40vh",
                        overflow_y="auto",
                    ),
                ),
                upload_picker(
                    ATTACH_UPLOAD_ID,
                    "Or drop new files here (or click to choose)",
                    send=("Upload and attach", "Upload the chosen files and attach them"),
                    on_upload=AttachState.upload,
                    zone_label="Choose new files to upload and attach",
                    compact=True,
                    after=rx.text("max " + FilesState.upload_limit, size="1", color_scheme="gray"),
                ),
                rx.cond(
                    AttachState.notice != "",
                    rx.text(AttachState.notice, size="2", role="alert", color_scheme="red"),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Done", variant="soft")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                margin_top="12px",
            ),
            max_width="min(560px, 95vw)",
            data_testid="attach-dialog",
        ),
        open=AttachState.picker_open,
        on_open_change=lambda _open: AttachState.close_picker(),
    )

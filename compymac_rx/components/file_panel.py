"""The workspace file panel: tree, upload, preview (highlighted text, images), delete."""

from __future__ import annotations

import reflex as rx

from compymac_rx.components.backend import backend_href
from compymac_rx.components.confirm import confirm_delete_dialog
from compymac_rx.components.layout import icon_action, title_bar
from compymac_rx.components.upload import upload_picker
from compymac_rx.state.files import UPLOAD_ID, FilesState, FileView


def _row(entry: FileView) -> rx.Component:
    return rx.hstack(
        rx.cond(entry.is_dir, rx.icon("folder", size=14), rx.icon("file", size=14)),
        rx.cond(
            entry.is_dir,
            rx.text(entry.name + "/", size="1"),
            rx.link(
                entry.name,
                size="1",
                on_click=FilesState.select(entry.path),
                aria_label="Preview " + entry.path,
                href="#",
            ),
        ),
        rx.spacer(),
        rx.text(entry.size, size="1", color_scheme="gray"),
        icon_action(
            "trash-2",
            "Delete " + entry.path,
            FilesState.ask_delete(entry.path),
            icon_size=12,
            color_scheme="red",
        ),
        padding_left=entry.indent,
        width="100%",
        align="center",
        data_testid="file-row",
    )


def _preview() -> rx.Component:
    return rx.cond(
        FilesState.selected != "",
        rx.vstack(
            rx.hstack(
                rx.code(FilesState.selected, size="1"),
                rx.spacer(),
                rx.link(
                    "Download",
                    href=backend_href(FilesState.download_url),
                    size="1",
                    is_external=False,
                ),
                width="100%",
            ),
            rx.match(
                FilesState.preview_kind,
                (
                    "text",
                    rx.code_block(
                        FilesState.preview_text,
                        language=FilesState.preview_language,
                        show_line_numbers=True,
                        width="100%",
                        font_size="12px",
                    ),
                ),
                (
                    "image",
                    rx.image(
                        src=backend_href(FilesState.preview_url), max_width="100%", alt="Preview"
                    ),
                ),
                rx.text("Binary file: download it to open it.", size="1", color_scheme="gray"),
            ),
            width="100%",
            data_testid="file-preview",
        ),
    )


def _delete_dialog() -> rx.Component:
    return confirm_delete_dialog(
        FilesState,
        title="Delete from the workspace?",
        description=rx.text("This removes ", rx.code(FilesState.delete_target), " for good."),
    )


def file_panel() -> rx.Component:
    return rx.cond(
        FilesState.panel_open,
        rx.vstack(
            title_bar(
                "Workspace", "3", icon_action("x", "Close the file panel", FilesState.toggle)
            ),
            upload_picker(
                UPLOAD_ID,
                "Drop files here or click to choose",
                send=("Upload", "Upload the chosen files"),
                on_upload=FilesState.upload,
                zone_label="Choose files to upload",
                compact=True,
                after=rx.text("max " + FilesState.upload_limit, size="1", color_scheme="gray"),
            ),
            rx.cond(
                FilesState.notice != "",
                rx.text(FilesState.notice, size="1", role="status", data_testid="file-notice"),
            ),
            rx.cond(
                FilesState.entries.length() == 0,
                rx.text("The workspace is empty.", size="1", color_scheme="gray"),
                rx.vstack(rx.foreach(FilesState.entries, _row), spacing="1", width="100%"),
            ),
            _preview(),
            _delete_dialog(),
            class_name="file-panel",
            data_testid="file-panel",
            padding="12px",
            spacing="3",
        ),
    )

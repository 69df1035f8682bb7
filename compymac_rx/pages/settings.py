"""The settings page: API keys per provider (hint only), the default model, your data."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.confirm import confirm_delete_dialog
from compymac_rx.components.download import download_link
from compymac_rx.components.layout import (
    danger_button,
    intro_text,
    result_line,
    section,
    signed_in_page,
)
from compymac_rx.components.model_params import default_prompt_section
from compymac_rx.components.theme import theme_choice
from compymac_rx.components.tokens import tokens_section
from compymac_rx.components.upload import upload_picker
from compymac_rx.keys.models import PROVIDER_LABELS
from compymac_rx.state.settings import KEY_INPUT_ID, SettingsState
from compymac_rx.state.transfer import IMPORT_UPLOAD_ID, TransferState


def _key_row(row: Any) -> rx.Component:  # a Var of one saved_keys dict
    return rx.hstack(
        rx.text(row["label"], weight="bold"),
        rx.code(row["hint"]),
        rx.text(row["base_url"], size="1", color_scheme="gray", truncate=True),
        rx.spacer(),
        danger_button(
            "Delete",
            SettingsState.ask_delete(row["provider"]),
            "Delete the " + row["label"] + " key",
        ),
        width="100%",
        align="center",
        data_testid="saved-key",
    )


def _delete_dialog() -> rx.Component:
    return confirm_delete_dialog(
        SettingsState,
        title="Delete this key?",
        description="Sessions that use this provider stop working until you add a key again.",
        confirm_label="Delete key",
    )


def _key_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("Provider", html_for="provider-select", size="2"),
            rx.select.root(
                rx.select.trigger(id="provider-select", aria_label="Provider"),
                rx.select.content(
                    *[
                        rx.select.item(label, value=value)
                        for value, label in PROVIDER_LABELS.items()
                    ]
                ),
                value=SettingsState.provider,
                on_change=SettingsState.set_provider,
            ),
            rx.cond(
                SettingsState.provider == "custom",
                rx.input(
                    name="base_url",
                    placeholder="https://my-server.example/v1",
                    aria_label="Base URL",
                    width="100%",
                ),
            ),
            rx.input(
                id=KEY_INPUT_ID,
                name="api_key",
                type="password",
                placeholder="sk-…",
                aria_label="API key",
                auto_complete="off",
                width="100%",
            ),
            rx.button(
                "Check and save key",
                type="submit",
                loading=SettingsState.saving,
                aria_label="Check and save key",
            ),
            result_line(SettingsState.result, SettingsState.result_ok, "key-result"),
            width="100%",
            spacing="2",
        ),
        on_submit=[SettingsState.start_save, SettingsState.save],
        reset_on_submit=False,
        width="100%",
    )


def _your_data() -> rx.Component:
    return section(
        "Your data",
        # A plain link: the route streams the zip with Content-Disposition: attachment.
        download_link("Download all sessions (zip)", routes.EXPORT_ACCOUNT, class_name="rt-Link"),
        upload_picker(
            IMPORT_UPLOAD_ID,
            "Drop a file to import here, or click to choose",
            send=("Import", "Import the chosen files"),
            on_upload=TransferState.import_files,
            zone_label="Choose files to import",
            accept={"application/json": [".json"], "application/zip": [".zip"]},
        ),
        result_line(TransferState.import_notice, TransferState.import_ok, "import-notice"),
        intro="Download every session (JSON) with its workspace files as one zip, or import "
        "conversations: a session JSON or account zip from this app, or ChatGPT's "
        "conversations.json.",
        spacing="3",
    )


def settings_page() -> rx.Component:
    return signed_in_page(
        SettingsState.user_email,
        "Settings",
        rx.heading("Model API keys", size="4"),
        intro_text(
            "Keys are checked with the provider, stored encrypted, and only their last four "
            "characters are ever shown."
        ),
        rx.cond(
            SettingsState.saved_keys.length() == 0,
            rx.text("No keys yet.", color_scheme="gray", size="2"),
            rx.vstack(rx.foreach(SettingsState.saved_keys, _key_row), width="100%"),
        ),
        _key_form(),
        rx.heading("Default model", size="4"),
        rx.select.root(
            rx.select.trigger(aria_label="Default model"),
            rx.select.content(
                rx.foreach(
                    SettingsState.choices,
                    lambda c: rx.select.item(c[1], value=c[0]),
                )
            ),
            value=SettingsState.default_model,
            on_change=SettingsState.set_default_model,
        ),
        default_prompt_section(),
        rx.heading("Appearance", size="4"),
        intro_text("Light, dark, or as your system is set. Kept with your account."),
        theme_choice(),
        tokens_section(),
        _your_data(),
        _delete_dialog(),
        max_width="640px",
        spacing="4",
    )

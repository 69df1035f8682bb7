"""The Account page: sign-ins (end one, or all others), password, deletion, security events."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx.components.layout import (
    danger_button,
    data_table,
    labeled_input,
    result_callout,
    secret_form,
    section,
    signed_in_page,
)
from compymac_rx.pages.security import two_factor_section, verification_banner
from compymac_rx.state.account import AccountState


def _password_input(name: str, label: str, autocomplete: str) -> rx.Component:
    return labeled_input(label, name, kind="password", autocomplete=autocomplete)


def _signin_row(row: Any) -> rx.Component:  # a Var of one `signins` dict
    return rx.table.row(
        rx.table.cell(rx.text(row["device"], size="1", truncate=True, max_width="320px")),
        rx.table.cell(row["ip"]),
        rx.table.cell(row["created"]),
        rx.table.cell(row["seen"]),
        rx.table.cell(
            rx.cond(
                row["current"] == "yes",
                rx.badge("this browser", color_scheme="green"),
                danger_button(
                    "Sign out",
                    AccountState.end_signin(row["id"]),
                    "End the session from " + row["ip"],
                ),
            )
        ),
        data_testid="signin-row",
    )


def _signins() -> rx.Component:
    return section(
        "Where you are signed in",
        data_table(
            ("Device", "Address", "Signed in", "Last seen", ""), AccountState.signins, _signin_row
        ),
        rx.button("Sign out everywhere else", variant="soft", on_click=AccountState.end_others),
    )


def _change_password() -> rx.Component:
    return secret_form(
        rx.heading("Change password", size="4"),
        _password_input("current_password", "Current password", "current-password"),
        _password_input("new_password", "New password", "new-password"),
        rx.text("Your other sessions are signed out.", size="1", color_scheme="gray"),
        rx.button("Change password", type="submit"),
        on_submit=AccountState.change_password,
    )


def _delete_account() -> rx.Component:
    return secret_form(
        rx.heading("Delete my account", size="4", color_scheme="red"),
        rx.text(
            "Deletes your account, sessions, messages, jobs, API keys and workspace files. "
            "This cannot be undone.",
            size="2",
        ),
        _password_input("delete_password", "Password to confirm", "current-password"),
        rx.button("Delete my account", type="submit", color_scheme="red", high_contrast=True),
        on_submit=AccountState.delete_account,
    )


def _event_row(row: Any) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["at"]),
        rx.table.cell(row["action"]),
        rx.table.cell(row["outcome"]),
        rx.table.cell(row["ip"]),
        rx.table.cell(rx.text(row["device"], size="1", truncate=True, max_width="240px")),
        data_testid="my-event-row",
    )


def _events() -> rx.Component:
    return section(
        "Security events",
        data_table(
            ("When", "What", "Outcome", "Address", "Device"), AccountState.events, _event_row
        ),
    )


def account_page() -> rx.Component:
    return signed_in_page(
        AccountState.user_email,
        "Account",
        verification_banner(),
        result_callout(AccountState.note, AccountState.note_ok, "account-result"),
        _signins(),
        rx.cond(AccountState.has_password, _change_password()),
        two_factor_section(),
        _events(),
        rx.cond(AccountState.has_password, _delete_account()),
        max_width="900px",
        spacing="5",
    )

"""The Account page: sign-ins (end one, or all others), password, deletion, security events."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx import routes
from compymac_rx.pages.security import two_factor_section, verification_banner
from compymac_rx.state.account import AccountState


def _password_input(name: str, label: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, font_size="14px"),
        rx.input(id=name, name=name, type="password", auto_complete=autocomplete, width="100%"),
        spacing="1",
        width="100%",
    )


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
                rx.button(
                    "Sign out",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=AccountState.end_signin(row["id"]),
                    aria_label="End the session from " + row["ip"],
                ),
            )
        ),
        data_testid="signin-row",
    )


def _signins() -> rx.Component:
    return rx.vstack(
        rx.heading("Where you are signed in", size="4"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(title)
                        for title in ("Device", "Address", "Signed in", "Last seen", "")
                    )
                )
            ),
            rx.table.body(rx.foreach(AccountState.signins, _signin_row)),
            width="100%",
        ),
        rx.button("Sign out everywhere else", variant="soft", on_click=AccountState.end_others),
        width="100%",
        spacing="2",
    )


def _change_password() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Change password", size="4"),
            _password_input("current_password", "Current password", "current-password"),
            _password_input("new_password", "New password", "new-password"),
            rx.text("Your other sessions are signed out.", size="1", color_scheme="gray"),
            rx.button("Change password", type="submit"),
            width="100%",
            spacing="2",
        ),
        on_submit=AccountState.change_password,
        reset_on_submit=True,
        width="100%",
    )


def _delete_account() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Delete my account", size="4", color_scheme="red"),
            rx.text(
                "Deletes your account, sessions, messages, jobs, API keys and workspace files. "
                "This cannot be undone.",
                size="2",
            ),
            _password_input("delete_password", "Password to confirm", "current-password"),
            rx.button("Delete my account", type="submit", color_scheme="red"),
            width="100%",
            spacing="2",
        ),
        on_submit=AccountState.delete_account,
        reset_on_submit=True,
        width="100%",
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
    return rx.vstack(
        rx.heading("Security events", size="4"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(title)
                        for title in ("When", "What", "Outcome", "Address", "Device")
                    )
                )
            ),
            rx.table.body(rx.foreach(AccountState.events, _event_row)),
            width="100%",
        ),
        width="100%",
        spacing="2",
    )


def account_page() -> rx.Component:
    return rx.cond(
        AccountState.user_email == "",
        rx.center(rx.spinner(size="3"), height="100vh", aria_label="Loading"),
        rx.vstack(
            rx.hstack(
                rx.link("← Back to sessions", href=routes.HOME),
                rx.spacer(),
                rx.text(AccountState.user_email, size="2", color_scheme="gray"),
                width="100%",
            ),
            rx.heading("Account", size="6"),
            verification_banner(),
            rx.cond(
                AccountState.result != "",
                rx.callout(
                    AccountState.result,
                    color_scheme=rx.cond(AccountState.result_ok, "green", "red"),
                    role="status",
                    data_testid="account-result",
                    width="100%",
                ),
            ),
            _signins(),
            rx.cond(AccountState.has_password, _change_password()),
            two_factor_section(),
            _events(),
            rx.cond(AccountState.has_password, _delete_account()),
            max_width="900px",
            margin="0 auto",
            padding="24px",
            spacing="5",
            width="100%",
        ),
    )

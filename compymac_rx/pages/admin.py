"""The admin page: the user list with enable/disable and grant/revoke admin, confirmed first."""

from __future__ import annotations

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.confirm import confirm_dialog
from compymac_rx.identity.directory import DirectoryUser
from compymac_rx.state.admin import AdminState

_VERBS = {
    "disable": "Disable",
    "enable": "Enable",
    "grant": "Make admin",
    "revoke": "Remove admin",
}


def _action(action: str, user: DirectoryUser, label: str) -> rx.Component:
    return rx.button(
        label,
        size="1",
        variant="soft",
        color_scheme="red" if action in ("disable", "revoke") else "violet",
        disabled=user.is_self,
        aria_label=label + " " + user.email,
        on_click=AdminState.ask(action, user.ref, user.email),
    )


def _row(user: DirectoryUser) -> rx.Component:
    return rx.table.row(
        rx.table.cell(user.email),
        rx.table.cell(user.name),
        rx.table.cell(rx.cond(user.enabled, "active", "disabled")),
        rx.table.cell(rx.cond(user.is_admin, "admin", "user")),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    user.enabled,
                    _action("disable", user, "Disable"),
                    _action("enable", user, "Enable"),
                ),
                rx.cond(
                    user.is_admin,
                    _action("revoke", user, "Remove admin"),
                    _action("grant", user, "Make admin"),
                ),
                spacing="2",
            )
        ),
        data_testid="admin-user-row",
    )


def _confirm_dialog() -> rx.Component:
    verb = rx.match(AdminState.confirm_action, *_VERBS.items(), "Change").to(str)
    return confirm_dialog(
        title=rx.fragment(verb, " ", AdminState.confirm_email, "?"),
        description="Disabling signs the person out everywhere at their next action.",
        confirm_label=verb,
        on_confirm=AdminState.confirm,
        on_cancel=AdminState.cancel,
        is_open=AdminState.confirm_action != "",
    )


def _invite() -> rx.Component:
    """One button; the link it makes is shown once, here (the server keeps only a hash)."""
    return rx.cond(
        AdminState.invites_offered,
        rx.hstack(
            rx.button("Make an invite link", variant="soft", on_click=AdminState.make_invite),
            rx.cond(
                AdminState.invite_url != "",
                rx.code(AdminState.invite_url, data_testid="invite-url", word_break="break-all"),
            ),
            spacing="3",
            align="center",
            width="100%",
        ),
    )


def admin_page() -> rx.Component:
    return rx.container(
        rx.vstack(
            rx.hstack(
                rx.heading("Users", size="6"),
                rx.spacer(),
                rx.cond(
                    AdminState.console_url != "",
                    rx.link(
                        "Keycloak admin console", href=AdminState.console_url, is_external=True
                    ),
                ),
                rx.link("Back to the workspace", href=routes.HOME),
                width="100%",
                align="center",
                spacing="4",
            ),
            rx.cond(
                AdminState.forbidden,
                rx.callout(
                    "This page is for administrators. Your account does not have the admin role.",
                    icon="lock",
                    color_scheme="red",
                    role="alert",
                ),
                rx.vstack(
                    rx.cond(
                        AdminState.error != "",
                        rx.callout(AdminState.error, color_scheme="red", role="alert"),
                    ),
                    _invite(),
                    rx.cond(
                        AdminState.loaded,
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *(
                                        rx.table.column_header_cell(title)
                                        for title in ("Email", "Name", "Status", "Role", "")
                                    )
                                )
                            ),
                            rx.table.body(rx.foreach(AdminState.users, _row)),
                            width="100%",
                        ),
                        rx.hstack(rx.spinner(), rx.text("Loading users…"), role="status"),
                    ),
                    rx.cond(
                        AdminState.loaded & (AdminState.users.length() == 0),
                        rx.text("No users yet.", color_scheme="gray"),
                    ),
                    width="100%",
                ),
            ),
            _confirm_dialog(),
            spacing="4",
            padding_y="24px",
            width="100%",
        ),
        size="4",
    )

"""The admin page: the user list with enable/disable and grant/revoke admin, confirmed first."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.confirm import confirm_dialog
from compymac_rx.identity.directory import DirectoryUser
from compymac_rx.pages.usage import usage_section
from compymac_rx.state.admin import AdminState
from compymac_rx.state.audit import RANGES, AuditState

_VERBS = {
    "disable": "Disable",
    "enable": "Enable",
    "grant": "Make admin",
    "revoke": "Remove admin",
    "delete": "Delete",
}


def _action(action: str, user: DirectoryUser, label: str) -> rx.Component:
    return rx.button(
        label,
        size="1",
        variant="soft",
        color_scheme="red" if action in ("disable", "revoke", "delete") else "violet",
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
                _action("delete", user, "Delete"),
                spacing="2",
            )
        ),
        data_testid="admin-user-row",
    )


def _confirm_dialog() -> rx.Component:
    verb = rx.match(AdminState.confirm_action, *_VERBS.items(), "Change").to(str)
    return confirm_dialog(
        title=rx.fragment(verb, " ", AdminState.confirm_email, "?"),
        description=rx.cond(
            AdminState.confirm_action == "delete",
            "Deletes the account and everything in it: sign-ins, sessions, messages, jobs, "
            "API keys, tokens and workspace files. This cannot be undone.",
            "Disabling signs the person out everywhere at their next action.",
        ),
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


def _user_search() -> rx.Component:
    return rx.hstack(
        rx.form(
            rx.hstack(
                rx.input(
                    name="user_query",
                    placeholder="email or name",
                    aria_label="Search users",
                    default_value=AdminState.user_query,
                ),
                rx.button("Search", type="submit", variant="soft"),
                spacing="2",
            ),
            on_submit=AdminState.search_users,
            reset_on_submit=False,
        ),
        rx.spacer(),
        rx.button(
            "Previous",
            variant="soft",
            disabled=AdminState.users_page == 0,
            on_click=AdminState.turn_users_page(False),
        ),
        rx.text("Page ", AdminState.users_page + 1, size="2", data_testid="users-page"),
        rx.button(
            "Next",
            variant="soft",
            disabled=~AdminState.users_has_next,
            on_click=AdminState.turn_users_page(True),
        ),
        spacing="2",
        align="center",
        width="100%",
    )


def _audit_row(row: Any) -> rx.Component:  # a Var of one AuditState.rows dict
    return rx.table.row(
        *(
            rx.table.cell(rx.text(row[name], size="1"))
            for name in ("at", "action", "outcome", "actor", "subject", "target", "ip", "detail")
        ),
        data_testid="audit-row",
    )


def _audit_filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="user", placeholder="user email", aria_label="Filter by user email"),
            rx.el.select(
                rx.foreach(AuditState.action_choices, lambda a: rx.el.option(a, value=a)),
                name="action",
                aria_label="Filter by action",
            ),
            rx.el.select(
                *(rx.el.option(label, value=value) for value, label in RANGES.items()),
                name="range",
                default_value="7",
                aria_label="Time range",
            ),
            rx.button("Filter", type="submit", variant="soft"),
            spacing="2",
            align="center",
        ),
        on_submit=AuditState.apply_filters,
        reset_on_submit=False,
    )


def _audit() -> rx.Component:
    return rx.vstack(
        rx.heading("Audit log", size="5"),
        _audit_filters(),
        rx.cond(
            AuditState.audit_error != "",
            rx.callout(AuditState.audit_error, color_scheme="red", role="alert"),
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(title)
                        for title in (
                            "When (UTC)",
                            "Action",
                            "Outcome",
                            "Actor",
                            "Subject",
                            "Target",
                            "Address",
                            "Detail",
                        )
                    )
                )
            ),
            rx.table.body(rx.foreach(AuditState.rows, _audit_row)),
            width="100%",
        ),
        rx.hstack(
            rx.button(
                "Newer",
                variant="soft",
                disabled=AuditState.page == 0,
                on_click=AuditState.previous_page,
            ),
            rx.text("Page ", AuditState.page + 1, size="2"),
            rx.button(
                "Older",
                variant="soft",
                disabled=~AuditState.has_next,
                on_click=AuditState.next_page,
            ),
            spacing="3",
            align="center",
        ),
        width="100%",
        spacing="3",
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
                    _user_search(),
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
                        rx.text("No users found.", color_scheme="gray"),
                    ),
                    usage_section(),
                    _audit(),
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

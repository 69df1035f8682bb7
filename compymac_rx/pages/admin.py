"""The admin page: the user list with enable/disable and grant/revoke admin, confirmed first."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.confirm import confirm_dialog
from compymac_rx.components.layout import data_table, pager, section, title_bar
from compymac_rx.components.theme import theme_menu
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


def _error_callout(text: Any) -> rx.Component:
    return rx.cond(text != "", rx.callout(text, color_scheme="red", role="alert"))


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
        pager(
            ("Previous", "Next"),
            AdminState.users_page,
            AdminState.users_has_next,
            (AdminState.turn_users_page(False), AdminState.turn_users_page(True)),
            spacing="2",
            test_id="users-page",
        ),
        spacing="2",
        align="center",
        width="100%",
    )


_AUDIT_COLUMNS = (
    ("When (UTC)", "at"),
    ("Action", "action"),
    ("Outcome", "outcome"),
    ("Actor", "actor"),
    ("Subject", "subject"),
    ("Target", "target"),
    ("Address", "ip"),
    ("Detail", "detail"),
)


def _audit_row(row: Any) -> rx.Component:  # a Var of one AuditState.rows dict
    return rx.table.row(
        *(rx.table.cell(rx.text(row[name], size="1")) for _, name in _AUDIT_COLUMNS),
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
    return section(
        "Audit log",
        _audit_filters(),
        _error_callout(AuditState.audit_error),
        data_table((title for title, _ in _AUDIT_COLUMNS), AuditState.rows, _audit_row),
        pager(
            ("Newer", "Older"),
            AuditState.page,
            AuditState.has_next,
            (AuditState.previous_page, AuditState.next_page),
        ),
        size="5",
        spacing="3",
    )


def admin_page() -> rx.Component:
    return rx.container(
        rx.vstack(
            title_bar(
                "Users",
                "6",
                rx.cond(
                    AdminState.console_url != "",
                    rx.link(
                        "Keycloak admin console", href=AdminState.console_url, is_external=True
                    ),
                ),
                rx.link("Back to the workspace", href=routes.HOME),
                theme_menu(),
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
                    _error_callout(AdminState.error),
                    _invite(),
                    _user_search(),
                    rx.cond(
                        AdminState.loaded,
                        data_table(("Email", "Name", "Status", "Role", ""), AdminState.users, _row),
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
            rx.script(src="/dialog_focus.js"),
            spacing="4",
            padding_y="24px",
            width="100%",
        ),
        size="4",
    )

"""Settings → API tokens: the form, the one-time secret, the list."""

from __future__ import annotations

import reflex as rx

from compymac_rx.components.layout import alert_line, danger_button, data_table, section
from compymac_rx.state.tokens import EXPIRY_DAYS, TOKEN_NAME_ID, TokensState, TokenView


def _row(token: TokenView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(token.name),
        rx.table.cell(rx.code(token.prefix)),
        rx.table.cell(token.scopes),
        rx.table.cell(token.expires),
        rx.table.cell(token.last_used),
        rx.table.cell(
            rx.cond(
                token.revoked,
                rx.text("revoked", size="1", color_scheme="gray"),
                danger_button("Revoke", TokensState.revoke(token.id), "Revoke " + token.name),
            )
        ),
        data_testid="token-row",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                id=TOKEN_NAME_ID,
                name="name",
                placeholder="Token name, e.g. laptop script",
                aria_label="Token name",
                max_length=100,
                flex="1",
            ),
            rx.select.root(
                # The trigger is what a screen reader focuses: it carries the name.
                rx.select.trigger(aria_label="Expires in days"),
                rx.select.content(*[rx.select.item(days, value=days) for days in EXPIRY_DAYS]),
                name="days",
                default_value="30",
            ),
            rx.text("days", size="2"),
            rx.text(
                rx.checkbox(name="write", aria_label="Allow changes (write scope)"),
                " write",
                as_="label",
                size="2",
            ),
            rx.button("Create token", type="submit"),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        on_submit=TokensState.create,
        reset_on_submit=False,
        width="100%",
    )


def tokens_section() -> rx.Component:
    return section(
        "API tokens",
        _form(),
        alert_line(TokensState.token_notice),
        rx.cond(
            TokensState.new_secret != "",
            rx.callout.root(
                rx.callout.text("Copy your new token now: it will not be shown again."),
                rx.code(
                    TokensState.new_secret, data_testid="new-token", style={"user_select": "all"}
                ),
                rx.button("Done", size="1", variant="soft", on_click=TokensState.dismiss_secret),
                color_scheme="green",
            ),
        ),
        rx.cond(
            TokensState.tokens.length() > 0,
            data_table(
                ("Name", "Token", "Scopes", "Expires", "Last used", ""),
                TokensState.tokens,
                _row,
                size="1",
            ),
            rx.text("No tokens yet.", size="2", color_scheme="gray"),
        ),
        intro="Personal access tokens for the REST API (/api/v1, docs at /api/v1/docs). A token "
        "acts as you; read-only unless you allow changes. Only its hash is stored.",
        spacing="3",
    )

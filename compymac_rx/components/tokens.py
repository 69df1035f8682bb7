"""Settings → API tokens: the form, the one-time secret, the list."""

from __future__ import annotations

import reflex as rx

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
                rx.button(
                    "Revoke",
                    size="1",
                    color_scheme="red",
                    variant="soft",
                    on_click=TokensState.revoke(token.id),
                    aria_label="Revoke " + token.name,
                ),
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
            rx.select(EXPIRY_DAYS, name="days", default_value="30", aria_label="Expires in days"),
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
    return rx.vstack(
        rx.heading("API tokens", size="4"),
        rx.text(
            "Personal access tokens for the REST API (/api/v1, docs at /api/v1/docs). A token "
            "acts as you; read-only unless you allow changes. Only its hash is stored.",
            size="2",
            color_scheme="gray",
        ),
        _form(),
        rx.cond(
            TokensState.token_notice != "",
            rx.text(TokensState.token_notice, color_scheme="red", size="2", role="alert"),
        ),
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
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Name", "Token", "Scopes", "Expires", "Last used", "")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(TokensState.tokens, _row)),
                width="100%",
                size="1",
            ),
            rx.text("No tokens yet.", size="2", color_scheme="gray"),
        ),
        width="100%",
        spacing="3",
    )

"""Settings → API tokens: create (the secret shown once), list with last use, revoke."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import Id
from compymac_rx.tokens import service as tokens
from compymac_rx.tokens.models import TokenPublic

EXPIRY_DAYS = ["7", "30", "90", "365"]
TOKEN_NAME_ID = "token-name"


@dataclasses.dataclass
class TokenView:
    id: str
    name: str
    prefix: str
    scopes: str
    expires: str
    last_used: str
    revoked: bool


def token_view(row: TokenPublic) -> TokenView:
    return TokenView(
        id=row.id,
        name=row.name,
        prefix=row.prefix + "…",
        scopes=", ".join(row.scopes),
        expires=row.expires_at.strftime("%Y-%m-%d"),
        last_used=row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never",
        revoked=row.revoked,
    )


class TokensState(AuthState):
    tokens: rx.Field[list[TokenView]] = rx.field(default_factory=list)
    # The new token's secret: in this tab until dismissed or the page is left, never again.
    new_secret: str = ""
    token_notice: str = ""

    async def _refresh(self, user_id: str) -> None:
        self.tokens = [token_view(row) for row in await off_loop(tokens.list_tokens, user_id)]

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        self.new_secret, self.token_notice = "", ""
        await self._refresh(user.id)

    @rx.event
    @signed_in
    async def create(self, user: CurrentUser, form: dict[str, Any]) -> EventSpec | None:
        name, days = form.get("name", ""), form.get("days", "30")
        scopes = ["read", "write"] if form.get("write") in ("on", True) else ["read"]
        if not isinstance(name, str) or days not in EXPIRY_DAYS:
            self.token_notice = "That form was not understood. Reload the page."
            return None
        try:
            _, secret = await off_loop(
                tokens.create_token, user.id, name, days=int(days), scopes=scopes
            )
        except tokens.TokenError as error:
            self.token_notice = str(error)
            return None
        self.new_secret, self.token_notice = secret, ""
        await self._refresh(user.id)
        return rx.set_value(TOKEN_NAME_ID, "")

    @rx.event
    def dismiss_secret(self) -> None:
        self.new_secret = ""

    @rx.event
    @signed_in
    async def revoke(self, user: CurrentUser, token_id: Id) -> None:
        await off_loop(tokens.revoke_token, user.id, token_id)
        await self._refresh(user.id)

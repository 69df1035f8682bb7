"""The Account page: the user's sign-ins, password, account deletion and security events."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.accounts import selfservice
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.accounts.service import AUTH_ERROR_MESSAGES, AuthError
from compymac_rx.audit import service as audit
from compymac_rx.db import utcnow
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.identity.http import token_from_cookie_header
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.notes import FormNote
from compymac_rx.state.payloads import Id
from compymac_rx.state.views import relative_time

PASSWORD_FIELDS = ("current_password", "new_password", "delete_password")


@dataclasses.dataclass
class AccountView:
    signins: list[dict[str, str]]
    events: list[dict[str, str]]


def account_view(user_id: str, token: str | None) -> AccountView:
    """Blocking: the user's live sign-ins and security events, as plain strings."""
    now = utcnow()
    signins = [
        {
            "id": s.id,
            "device": s.user_agent or "unknown device",
            "ip": s.ip or "unknown address",
            "created": s.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "seen": relative_time(s.last_seen_at, now),
            "current": "yes" if s.current else "",
        }
        for s in selfservice.list_signins(user_id, current_token=token)
    ]
    events = [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "action": e.action,
            "outcome": e.outcome,
            "ip": e.ip,
            "device": e.user_agent,
        }
        for e in audit.events_for_user(user_id)
    ]
    return AccountView(signins, events)


def message(error: AuthError) -> str:
    template = AUTH_ERROR_MESSAGES.get(error.code, "That did not work. Try again.")
    return template.format(min=get_settings().password_min_length, wait=error.retry_after)


def form_text(form: dict[str, Any], name: str) -> str:
    """A text field of a submitted form ("" when missing or not text)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


class AccountState(FormNote, AuthState):
    signins: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    events: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    has_password: bool = False

    def _token(self) -> str | None:
        return token_from_cookie_header(self.router.headers.cookie)

    async def _refresh(self, user_id: str) -> None:
        view = await off_loop(account_view, user_id, self._token())
        self.signins, self.events = view.signins, view.events

    def _secret_fields(self) -> tuple[str, ...]:
        return PASSWORD_FIELDS

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        self.note = ""
        self.has_password = get_identity_provider().uses_password_form
        await self._refresh(user.id)

    @rx.event
    @signed_in
    async def end_signin(self, user: CurrentUser, signin_id: Id) -> None:
        ended = await off_loop(selfservice.end_signin, user.id, signin_id)
        self.note, self.note_ok = ("Signed out there." if ended else "Already ended."), True
        await self._refresh(user.id)

    @rx.event
    @signed_in
    async def end_others(self, user: CurrentUser) -> None:
        token = self._token() or ""
        count = await off_loop(selfservice.end_other_signins, user.id, current_token=token)
        self.note, self.note_ok = f"Signed out of {count} other session(s).", True
        await self._refresh(user.id)

    @rx.event
    @signed_in
    async def change_password(self, user: CurrentUser, form: dict[str, Any]) -> list[EventSpec]:
        try:
            ended = await off_loop(
                selfservice.change_password,
                user.id,
                current_token=self._token() or "",
                current_password=form_text(form, "current_password"),
                new_password=form_text(form, "new_password"),
            )
        except AuthError as error:
            return self._say(message(error), False)
        await self._refresh(user.id)
        return self._say(f"Password changed. {ended} other session(s) signed out.", True)

    @rx.event
    @signed_in
    async def delete_account(self, user: CurrentUser, form: dict[str, Any]) -> list[EventSpec]:
        try:
            await off_loop(
                selfservice.delete_account, user.id, password=form_text(form, "delete_password")
            )
        except AuthError as error:
            return self._say(message(error), False)
        return [rx.redirect(routes.signin_url(notice="deleted"))]

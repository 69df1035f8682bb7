"""The Account page's sign-in security: the email-confirmation banner and two-factor."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx.accounts import email_links, twofactor
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.accounts.service import AuthError
from compymac_rx.audit import service as audit
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.offload import off_loop
from compymac_rx.state.account import form_text, message
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.notes import FormNote

CODE_FIELDS = ("totp_code", "disable_password", "disable_code")


class SecurityState(FormNote, AuthState):
    # Local accounts only: an issuer's sign-in has its own second factor and mail.
    local: bool = False
    unverified: bool = False
    two_factor_on: bool = False
    recovery_left: int = 0
    # While enrolling: the QR code (a PNG data URL) and the secret to type in by hand.
    qr_data_url: str = ""
    manual_secret: str = ""
    # Shown once, right after the enrollment is confirmed.
    recovery_codes: list[str] = []

    async def _refresh(self, user_id: str) -> None:
        unverified = await off_loop(email_links.needs_verification, user_id)
        status = await off_loop(twofactor.status, user_id)
        self.unverified = unverified
        self.two_factor_on, self.recovery_left = status.enabled, status.recovery_codes_left

    def _secret_fields(self) -> tuple[str, ...]:
        return CODE_FIELDS

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        self.local = get_identity_provider().uses_password_form
        self.note, self.qr_data_url, self.manual_secret, self.recovery_codes = "", "", "", []
        if self.local:
            await self._refresh(user.id)

    @rx.event
    @signed_in
    async def resend_verification(self, user: CurrentUser) -> None:
        ip, agent = audit.current_client()
        await off_loop(email_links.send_verification, user.id, ip=ip, user_agent=agent)
        self.note, self.note_ok = "A new confirmation link is on its way to your mail.", True

    @rx.event
    @signed_in
    async def start_two_factor(self, user: CurrentUser) -> None:
        try:
            enrollment = await off_loop(twofactor.start_enrollment, user.id)
        except AuthError as error:
            self.note, self.note_ok = message(error), False
            return
        self.qr_data_url, self.manual_secret = enrollment.qr_data_url, enrollment.secret
        self.note = ""

    @rx.event
    @signed_in
    async def confirm_two_factor(self, user: CurrentUser, form: dict[str, Any]) -> list[EventSpec]:
        try:
            codes = await off_loop(
                twofactor.confirm_enrollment, user.id, form_text(form, "totp_code")
            )
        except AuthError as error:
            return self._say(message(error), False)
        self.qr_data_url, self.manual_secret, self.recovery_codes = "", "", codes
        await self._refresh(user.id)
        return self._say("Two-factor sign-in is on.", True)

    @rx.event
    @signed_in
    async def dismiss_recovery_codes(self, user: CurrentUser) -> None:
        self.recovery_codes = []

    @rx.event
    @signed_in
    async def disable_two_factor(self, user: CurrentUser, form: dict[str, Any]) -> list[EventSpec]:
        try:
            await off_loop(
                twofactor.disable,
                user.id,
                password=form_text(form, "disable_password"),
                code=form_text(form, "disable_code"),
            )
        except AuthError as error:
            return self._say(message(error), False)
        await self._refresh(user.id)
        return self._say("Two-factor sign-in is off.", True)

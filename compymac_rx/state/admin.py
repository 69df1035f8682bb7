"""The admin page: users, enable/disable, grant/revoke admin. Every handler re-checks the
role on the server (and identity.directory checks it again)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import reflex as rx
from reflex.event import EventSpec
from starlette.concurrency import run_in_threadpool

from compymac_rx.accounts import invites
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.identity.directory import DirectoryUser, NotAllowed
from compymac_rx.identity.factory import get_identity_provider, get_user_directory
from compymac_rx.state.auth import AuthState

log = logging.getLogger(__name__)


class AdminState(AuthState):
    users: rx.Field[list[DirectoryUser]] = rx.field(default_factory=list)
    forbidden: bool = False
    loaded: bool = False
    error: str = ""
    console_url: str = ""
    # The action waiting for confirmation: ("disable" | "enable" | "grant" | "revoke", ref).
    confirm_action: str = ""
    confirm_ref: str = ""
    confirm_email: str = ""
    # Local accounts only: the last invite link made, shown once (only its hash is stored).
    invites_offered: bool = False
    invite_url: str = ""

    def _admin(self) -> CurrentUser | None:
        """The signed-in admin, or None (and the page says so)."""
        user = self._current_user()
        self.forbidden = user is not None and not user.is_admin
        if self.forbidden:
            self.users, self.error = [], ""
        return user if user is not None and user.is_admin else None

    def _reload(self, actor: CurrentUser) -> None:
        directory = get_user_directory()
        self.console_url = directory.console_url
        self.users = directory.list_users(actor)
        self.loaded = True

    @rx.event
    def load(self) -> EventSpec | None:
        if self._current_user() is None:
            return self._to_signin()
        if (actor := self._admin()) is not None:
            self.error, self.invite_url = "", ""
            self.invites_offered = get_identity_provider().name == "local"
            self._guarded(actor, lambda: None)
        return None

    @rx.event
    async def make_invite(self) -> EventSpec | None:
        if self._current_user() is None:
            return self._to_signin()
        if (actor := self._admin()) is None:
            return None
        try:
            self.invite_url = await run_in_threadpool(invites.create_invite, actor.id)
        except invites.NotAdmin:
            self.invite_url, self.error = "", "Not allowed: only admins may invite."
        return None

    @rx.event
    def ask(self, action: str, ref: str, email: str) -> None:
        self.confirm_action, self.confirm_ref, self.confirm_email = action, ref, email

    @rx.event
    def cancel(self) -> None:
        self.confirm_action = self.confirm_ref = self.confirm_email = ""

    @rx.event
    def confirm(self) -> EventSpec | None:
        if self._current_user() is None:
            return self._to_signin()
        action, ref = self.confirm_action, self.confirm_ref
        self.confirm_action = self.confirm_ref = self.confirm_email = ""
        if (actor := self._admin()) is None:
            return None
        directory = get_user_directory()
        steps = {
            "disable": lambda: directory.set_enabled(actor, ref, False),
            "enable": lambda: directory.set_enabled(actor, ref, True),
            "grant": lambda: directory.set_admin(actor, ref, True),
            "revoke": lambda: directory.set_admin(actor, ref, False),
        }
        if action in steps:
            self._guarded(actor, steps[action])
        return None

    def _guarded(self, actor: CurrentUser, step: Callable[[], None]) -> None:
        try:
            step()
            self.error = ""
        except NotAllowed as refusal:
            self.error = f"Not allowed: {refusal}."
        except Exception:
            # The directory (Keycloak) failed: say so, keep the details in the log.
            log.exception("admin action failed")
            self.error = "The user directory could not be reached or refused the change."
        try:
            self._reload(actor)
        except Exception:
            log.exception("listing users failed")
            self.error = "The user directory could not be reached."

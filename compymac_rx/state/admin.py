"""The admin page: users, enable/disable, grant/revoke admin. Every handler re-checks the
role on the server (and identity.directory checks it again)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import reflex as rx

from compymac_rx.accounts import invites
from compymac_rx.accounts.admins import NotAdmin
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.identity.directory import DirectoryUnavailable, DirectoryUser, NotAllowed
from compymac_rx.identity.factory import get_identity_provider, get_user_directory
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import Choice, Id, ShortText

log = logging.getLogger(__name__)


USERS_PAGE = 50


@dataclasses.dataclass
class Listing:
    users: list[DirectoryUser]
    console_url: str
    error: str
    has_next: bool = False


def run_admin_step(
    actor: CurrentUser, step: Callable[[], None] | None, query: str = "", page: int = 0
) -> Listing:
    """Blocking: do one directory change (if any), then list one page of users again."""
    error = ""
    directory = get_user_directory()
    if step is not None:
        try:
            step()
        except NotAllowed as refusal:
            error = f"Not allowed: {refusal}."
        except DirectoryUnavailable:
            # Say so in a sentence; the details go to the log.
            log.exception("admin action failed")
            error = "The user directory could not be reached or refused the change."
    try:
        # One more than a page: whether there is a next page, without counting them all.
        users = directory.list_users(
            actor, query=query, offset=page * USERS_PAGE, limit=USERS_PAGE + 1
        )
        return Listing(users[:USERS_PAGE], directory.console_url, error, len(users) > USERS_PAGE)
    except DirectoryUnavailable:
        log.exception("listing users failed")
        return Listing([], directory.console_url, "The user directory could not be reached.")


class AdminState(AuthState):
    users: rx.Field[list[DirectoryUser]] = rx.field(default_factory=list)
    forbidden: bool = False
    loaded: bool = False
    error: str = ""
    console_url: str = ""
    # The action waiting for confirmation: (disable | enable | grant | revoke | delete, ref).
    confirm_action: str = ""
    confirm_ref: str = ""
    confirm_email: str = ""
    # Local accounts only: the last invite link made, shown once (only its hash is stored).
    invites_offered: bool = False
    invite_url: str = ""
    # Search and paging over the directory.
    user_query: str = ""
    users_page: int = 0
    users_has_next: bool = False

    def _may_administer(self, user: CurrentUser) -> bool:
        """False (and the page says so) for anyone but an admin."""
        self.forbidden = not user.is_admin
        if self.forbidden:
            self.users, self.error = [], ""
        return user.is_admin

    async def _run(self, actor: CurrentUser, step: Callable[[], None] | None) -> None:
        listing = await off_loop(run_admin_step, actor, step, self.user_query, self.users_page)
        self.users, self.console_url, self.error = listing.users, listing.console_url, listing.error
        self.users_has_next, self.loaded = listing.has_next, True

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        self.invite_url = ""
        self.invites_offered = get_identity_provider().name == "local"
        if self._may_administer(user):
            await self._run(user, None)

    @rx.event
    @signed_in
    async def search_users(self, user: CurrentUser, form: dict[str, Any]) -> None:
        query = form.get("user_query", "")
        self.user_query = query.strip()[:200] if isinstance(query, str) else ""
        self.users_page = 0
        if self._may_administer(user):
            await self._run(user, None)

    @rx.event
    @signed_in
    async def turn_users_page(self, user: CurrentUser, forward: bool) -> None:
        self.users_page = max(0, self.users_page + (1 if forward else -1))
        if self._may_administer(user):
            await self._run(user, None)

    @rx.event
    @signed_in
    async def make_invite(self, user: CurrentUser) -> None:
        """A single-use sign-up link (SIGNUP=invite), shown once; only its hash is stored."""
        if not self._may_administer(user):
            return
        try:
            self.invite_url = await off_loop(invites.create_invite, user.id)
        except NotAdmin:
            self.invite_url, self.error = "", "Not allowed: only admins may invite."

    @rx.event
    def ask(self, action: Choice, ref: Id, email: ShortText) -> None:
        self.confirm_action, self.confirm_ref, self.confirm_email = action, ref, email

    @rx.event
    def cancel(self) -> None:
        self.confirm_action = self.confirm_ref = self.confirm_email = ""

    @rx.event
    @signed_in
    async def confirm(self, user: CurrentUser) -> None:
        action, ref = self.confirm_action, self.confirm_ref
        self.confirm_action = self.confirm_ref = self.confirm_email = ""
        if not self._may_administer(user):
            return
        directory = get_user_directory()
        steps: dict[str, Callable[[], None]] = {
            "disable": lambda: directory.set_enabled(user, ref, False),
            "enable": lambda: directory.set_enabled(user, ref, True),
            "grant": lambda: directory.set_admin(user, ref, True),
            "revoke": lambda: directory.set_admin(user, ref, False),
            "delete": lambda: directory.delete_user(user, ref),
        }
        if action in steps:
            await self._run(user, steps[action])

"""The IdentityProvider interface: how people prove who they are."""

from __future__ import annotations

from typing import Protocol

from starlette.routing import BaseRoute

from compymac_rx.accounts.models import CurrentUser


class IdentityProvider(Protocol):
    name: str
    # True: the sign-in page shows the email/password form; False: a button to the issuer.
    uses_password_form: bool
    # Shown on that button: "Continue with <display_name>".
    display_name: str

    def routes(self) -> list[BaseRoute]:
        """The HTTP routes that end in an app session cookie (sign-in, callbacks)."""
        ...

    def current_user(self, token: str | None) -> CurrentUser | None:
        """The user behind a session cookie, on every event; an issuer-backed session is
        refreshed here before its access token expires, and ends when the refresh fails."""
        ...

    def end_session(self, token: str) -> str | None:
        """Sign out: revoke the app session; returns where to send the browser next (the
        issuer's logout endpoint) or None for our sign-in page."""
        ...

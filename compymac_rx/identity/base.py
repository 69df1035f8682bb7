"""The IdentityProvider interface: how people prove who they are."""

from __future__ import annotations

from typing import Protocol

from starlette.routing import BaseRoute


class IdentityProvider(Protocol):
    name: str
    # True: the sign-in page shows the email/password form; False: a button to the issuer.
    uses_password_form: bool

    def routes(self) -> list[BaseRoute]:
        """The HTTP routes that end in an app session cookie (sign-in, callbacks)."""
        ...

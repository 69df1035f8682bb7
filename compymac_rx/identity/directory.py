"""Who may use the app, as the admin page manages it: one interface, the app's own table
(`local`, `oidc`) or Keycloak's users through its admin API (`keycloak`).

Every call takes the acting user and refuses unless that user is an admin: the Reflex
handler checks too, but the rule lives here so no caller can forget it.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from compymac_rx.accounts import selfservice
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser


class NotAllowed(Exception):
    """The actor may not do this (not an admin, or an action on their own account)."""


class DirectoryUnavailable(Exception):
    """The directory (Keycloak) could not be reached, or refused the request."""


@dataclasses.dataclass
class DirectoryUser:
    ref: str  # the directory's id: our user id, or the Keycloak user id
    email: str
    name: str
    enabled: bool
    is_admin: bool
    is_self: bool


class UserDirectory(Protocol):
    # Where the operator manages everything else (the Keycloak admin console), or "".
    console_url: str

    def list_users(
        self, actor: CurrentUser, *, query: str = "", offset: int = 0, limit: int = 500
    ) -> list[DirectoryUser]:
        """One page of users, those matching `query` (email or name) when given."""
        ...

    def set_enabled(self, actor: CurrentUser, ref: str, enabled: bool) -> None: ...

    def set_admin(self, actor: CurrentUser, ref: str, admin: bool) -> None: ...

    def delete_user(self, actor: CurrentUser, ref: str) -> None: ...


def require_admin(actor: CurrentUser | None) -> CurrentUser:
    # Re-read from the database: the flag may have been revoked since `actor` was resolved.
    if actor is None or not actor.is_admin or not accounts.is_active_admin(actor.id):
        raise NotAllowed("only admins may manage users")
    return actor


class LocalDirectory:
    console_url = ""
    LIMIT = 500

    def list_users(
        self, actor: CurrentUser, *, query: str = "", offset: int = 0, limit: int = LIMIT
    ) -> list[DirectoryUser]:
        require_admin(actor)
        found = accounts.list_users(limit=min(limit, self.LIMIT), offset=offset, query=query)
        return [
            DirectoryUser(u.id, u.email, u.display_name, u.is_active, u.is_admin, u.id == actor.id)
            for u in found
        ]

    def set_enabled(self, actor: CurrentUser, ref: str, enabled: bool) -> None:
        not_self(require_admin(actor).id, ref)
        accounts.set_user_flags(ref, actor_id=actor.id, is_active=enabled)

    def set_admin(self, actor: CurrentUser, ref: str, admin: bool) -> None:
        not_self(require_admin(actor).id, ref)
        accounts.set_user_flags(ref, actor_id=actor.id, is_admin=admin)

    def delete_user(self, actor: CurrentUser, ref: str) -> None:
        """The same deletion as the owner's own (accounts, sessions, messages, jobs, keys,
        tokens, workspace folders); never the last admin, never oneself here."""
        not_self(require_admin(actor).id, ref)
        try:
            selfservice.remove_account(ref, actor_id=actor.id, action="user.delete")
        except accounts.AuthError as error:
            if error.code == "last_admin":
                raise NotAllowed("the last admin cannot be deleted") from None
            raise NotAllowed("that account no longer exists") from None


def not_self(actor_ref: str | None, ref: str) -> None:
    # An admin who disables or demotes themselves could leave nobody able to undo it.
    if actor_ref is not None and actor_ref == ref:
        raise NotAllowed("you cannot change your own account here")

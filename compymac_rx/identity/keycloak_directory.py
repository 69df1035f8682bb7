"""The admin page's users, in Keycloak, through python-keycloak as the client's service
account (realm-management: view-users, query-users, manage-users and view-realm, which
reading role members needs; see keycloak/realm.json)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakError

from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.audit import service as audit
from compymac_rx.identity.directory import (
    DirectoryUnavailable,
    DirectoryUser,
    NotAllowed,
    not_self,
    require_admin,
)
from compymac_rx.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


def _reaching(
    call: Callable[Concatenate[KeycloakDirectory, P], R],
) -> Callable[Concatenate[KeycloakDirectory, P], R]:
    """Keycloak's failures (unreachable, refused) as the directory's one error."""

    @functools.wraps(call)
    def wrapper(self: KeycloakDirectory, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return call(self, *args, **kwargs)
        except KeycloakError as error:
            raise DirectoryUnavailable(str(error)) from error

    return wrapper


class KeycloakDirectory:
    LIMIT = 500

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.console_url = f"{settings.keycloak_base_url}/admin/{settings.keycloak_realm}/console/"
        # The realm role that the admin page grants: the first `realm:` source that maps to
        # the app's admin role. With none configured, grant/revoke is refused.
        self.admin_role = next(
            (
                source.split(":", 1)[1]
                for source in settings.keycloak_role_mapping.get("admin", [])
                if source.startswith("realm:")
            ),
            None,
        )

    def _admin(self) -> KeycloakAdmin:
        s = self.settings
        connection = KeycloakOpenIDConnection(
            server_url=s.keycloak_base_url,
            realm_name=s.keycloak_realm,
            user_realm_name=s.keycloak_realm,
            client_id=s.oidc_client_id,
            client_secret_key=s.oidc_client_secret,
            timeout=int(s.oidc_http_timeout_seconds),
        )
        return KeycloakAdmin(connection=connection)

    def _actor_ref(self, actor: CurrentUser) -> str | None:
        return accounts.subject_for_user(actor.id, issuer=self.settings.oidc_issuer)

    @_reaching
    def list_users(
        self, actor: CurrentUser, *, query: str = "", offset: int = 0, limit: int = LIMIT
    ) -> list[DirectoryUser]:
        require_admin(actor)
        admin = self._admin()
        # Keycloak searches username, email, first and last name itself.
        params: dict[str, Any] = {
            "max": min(limit, self.LIMIT),
            "first": offset,
            "briefRepresentation": True,
        }
        if query:
            params["search"] = query
        users: list[dict[str, Any]] = admin.get_users(params)
        admins: set[str] = set()
        if self.admin_role:
            members = admin.get_realm_role_members(self.admin_role, {"max": self.LIMIT})
            admins = {member["id"] for member in members}
        me = self._actor_ref(actor)
        return [
            DirectoryUser(
                ref=user["id"],
                email=user.get("email") or user.get("username", ""),
                name=" ".join(filter(None, (user.get("firstName"), user.get("lastName")))),
                enabled=bool(user.get("enabled")),
                is_admin=user["id"] in admins,
                is_self=user["id"] == me,
            )
            for user in users
            if not user.get("username", "").startswith("service-account-")
        ]

    @_reaching
    def set_enabled(self, actor: CurrentUser, ref: str, enabled: bool) -> None:
        require_admin(actor)
        not_self(self._actor_ref(actor), ref)
        admin = self._admin()
        admin.update_user(ref, {"enabled": enabled})
        if not enabled:
            # Ends their Keycloak sessions (which sends back-channel logouts) and ours.
            admin.user_logout(ref)
            accounts.end_issuer_sessions(issuer=self.settings.oidc_issuer, subject=ref, sid=None)
        self._audit(actor, ref, "user.enable" if enabled else "user.disable")

    @_reaching
    def set_admin(self, actor: CurrentUser, ref: str, admin_flag: bool) -> None:
        require_admin(actor)
        not_self(self._actor_ref(actor), ref)
        if self.admin_role is None:
            raise NotAllowed("KEYCLOAK_ROLE_MAPPING names no realm role for admin")
        admin = self._admin()
        role = admin.get_realm_role(self.admin_role)
        if admin_flag:
            admin.assign_realm_roles(ref, [role])
        else:
            admin.delete_realm_roles_of_user(ref, [role])
        # Our copy follows at once; their next token refresh re-reads it from Keycloak anyway.
        accounts.set_admin_for_subject(
            issuer=self.settings.oidc_issuer, subject=ref, admin=admin_flag
        )
        self._audit(actor, ref, "user.grant_admin" if admin_flag else "user.revoke_admin")

    def delete_user(self, actor: CurrentUser, ref: str) -> None:
        # Keycloak owns these accounts: deleting one is done in its admin console.
        require_admin(actor)
        raise NotAllowed("delete Keycloak users in the Keycloak admin console")

    def _audit(self, actor: CurrentUser, ref: str, action: str) -> None:
        subject = accounts.user_for_subject(issuer=self.settings.oidc_issuer, subject=ref)
        audit.record(action, actor_id=actor.id, subject_id=subject, target=f"keycloak-user:{ref}")

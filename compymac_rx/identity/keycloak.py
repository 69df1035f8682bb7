"""Keycloak: the OIDC provider plus role mapping from Keycloak's claims, failing closed."""

from __future__ import annotations

from typing import Any

from compymac_rx.identity.oidc import OidcProvider


def _strings(value: Any) -> list[str]:
    """A claim that should be a list of strings; anything else counts as empty (fail closed)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def claim_sources(claims: dict[str, Any], client_id: str) -> set[str]:
    """Every role source the token proves, in the mapping's notation."""
    found: set[str] = set()
    realm = claims.get("realm_access")
    if isinstance(realm, dict):
        found |= {f"realm:{role}" for role in _strings(realm.get("roles"))}
    resources = claims.get("resource_access")
    if isinstance(resources, dict):
        for client, access in resources.items():
            roles = _strings(access.get("roles")) if isinstance(access, dict) else []
            found |= {f"client:{client}:{role}" for role in roles}
            if client == client_id:
                found |= {f"client:{role}" for role in roles}
    found |= {f"group:{group.strip('/')}" for group in _strings(claims.get("groups"))}
    return found


class KeycloakProvider(OidcProvider):
    name = "keycloak"

    def app_roles(self, claims: dict[str, Any]) -> set[str] | None:
        present = claim_sources(claims, self.settings.oidc_client_id)
        mapping = self.settings.keycloak_role_mapping
        return {
            role
            for role, sources in mapping.items()
            if present & {_normalise(source) for source in sources}
        }

    @property
    def admin_console_url(self) -> str:
        return f"{self.settings.keycloak_base_url}/admin/{self.settings.keycloak_realm}/console/"


def _normalise(source: str) -> str:
    kind, _, rest = source.partition(":")
    return f"group:{rest.strip('/')}" if kind == "group" else source

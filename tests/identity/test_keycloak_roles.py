"""Keycloak claims -> app roles, through the configurable mapping; anything odd grants nothing."""

from __future__ import annotations

import pytest

from compymac_rx.identity.keycloak import KeycloakProvider, claim_sources
from compymac_rx.settings import load_settings

BASE = {
    "identity_provider": "keycloak",
    "oidc_issuer": "http://127.0.0.1:1/realms/compymac",
    "oidc_client_id": "compymac-web",
    "oidc_client_secret": "s",
}


def provider(**mapping: list[str]) -> KeycloakProvider:
    settings = load_settings(**BASE, **({"keycloak_role_mapping": mapping} if mapping else {}))
    return KeycloakProvider(settings)


def test_realm_client_and_group_sources_are_read() -> None:
    claims = {
        "realm_access": {"roles": ["user"]},
        "resource_access": {"compymac-web": {"roles": ["editor"]}, "other": {"roles": ["x"]}},
        "groups": ["/admins", "staff"],
    }
    assert claim_sources(claims, "compymac-web") == {
        "realm:user",
        "client:editor",
        "client:compymac-web:editor",
        "client:other:x",
        "group:admins",
        "group:staff",
    }


def test_default_mapping_uses_realm_roles() -> None:
    p = provider()
    assert p.app_roles({"realm_access": {"roles": ["user", "admin"]}}) == {"user", "admin"}
    assert p.app_roles({"realm_access": {"roles": ["user"]}}) == {"user"}


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"realm_access": None},
        {"realm_access": {"roles": "admin"}},
        {"realm_access": ["admin"]},
        {"realm_access": {"roles": [{"name": "admin"}]}},
        {"resource_access": {"compymac-web": "admin"}},
        {"groups": "admins"},
        {"roles": ["admin"], "admin": True, "is_admin": True},
    ],
)
def test_missing_or_malformed_claims_never_grant_admin(claims: dict[str, object]) -> None:
    p = provider(admin=["realm:admin", "client:admin", "group:/admins"], user=["realm:user"])
    assert "admin" not in (p.app_roles(claims) or set())
    # Positive control: the same provider reads a well-formed admin claim.
    assert "admin" in (p.app_roles({"realm_access": {"roles": ["admin"]}}) or set())


def test_custom_mapping_with_groups_and_client_roles() -> None:
    p = provider(admin=["group:/admins"], user=["client:compymac-web:member"])
    roles = p.app_roles(
        {"groups": ["admins"], "resource_access": {"compymac-web": {"roles": ["member"]}}}
    )
    assert roles == {"admin", "user"}
    assert p.app_roles({"realm_access": {"roles": ["admin"]}}) == set()


def test_oidc_settings_need_issuer_client_and_secret() -> None:
    from compymac_rx.settings import SettingsError

    for missing in ("oidc_issuer", "oidc_client_id", "oidc_client_secret"):
        values = {**BASE, missing: ""}
        with pytest.raises(SettingsError, match=missing.upper()):
            load_settings(**values)
    with pytest.raises(SettingsError, match="OIDC_ISSUER"):
        load_settings(**{**BASE, "oidc_issuer": "not a url"})

"""Picks the identity provider from settings."""

from __future__ import annotations

import functools

from compymac_rx.identity.base import IdentityProvider
from compymac_rx.identity.directory import LocalDirectory, UserDirectory
from compymac_rx.identity.keycloak import KeycloakProvider
from compymac_rx.identity.keycloak_directory import KeycloakDirectory
from compymac_rx.identity.local import LocalProvider
from compymac_rx.identity.oidc import OidcProvider
from compymac_rx.settings import get_settings


@functools.cache
def get_identity_provider() -> IdentityProvider:
    settings = get_settings()
    match settings.identity_provider:
        case "local":
            return LocalProvider()
        case "oidc":
            return OidcProvider(settings)
        case "keycloak":
            return KeycloakProvider(settings)


@functools.cache
def get_user_directory() -> UserDirectory:
    """The admin page's users: Keycloak's with `keycloak`, the app's own table otherwise."""
    settings = get_settings()
    if settings.identity_provider == "keycloak":
        return KeycloakDirectory(settings)
    return LocalDirectory()

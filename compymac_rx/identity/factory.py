"""Picks the identity provider from settings."""

from __future__ import annotations

import functools

from compymac_rx.identity.base import IdentityProvider
from compymac_rx.identity.keycloak import KeycloakProvider
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

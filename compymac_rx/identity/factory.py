"""Picks the identity provider from settings."""

from __future__ import annotations

import functools

from compymac_rx.identity.base import IdentityProvider
from compymac_rx.identity.local import LocalProvider
from compymac_rx.settings import get_settings


@functools.cache
def get_identity_provider() -> IdentityProvider:
    match get_settings().identity_provider:
        case "local":
            return LocalProvider()

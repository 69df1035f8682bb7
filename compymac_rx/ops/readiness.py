"""Is this process able to serve? Each dependency the settings use, checked with a timeout."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from sqlalchemy import text

from compymac_rx.db import get_engine
from compymac_rx.identity.factory import get_identity_provider
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

TIMEOUT = 2.0
Check = Callable[[], None]


def _database() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()


def _identity_provider() -> None:
    # A provider that talks to an issuer (oidc, keycloak) has a `check_ready()` that raises
    # when the issuer (its discovery document) is unreachable. The local provider has nothing
    # outside the database to check.
    check = getattr(get_identity_provider(), "check_ready", None)
    if callable(check):
        check()


def checks() -> dict[str, Check]:
    """The dependencies of this deployment, by the name /ready reports."""
    settings = get_settings()
    found: dict[str, Check] = {"database": _database}
    uses_redis = settings.event_bus == "redis" or settings.rate_limit_store == "redis"
    if uses_redis:
        found["redis"] = lambda: _ping_redis(settings.redis_url)
    if settings.job_runner == "celery":
        # The broker is Redis (CELERY_BROKER_URL, or REDIS_URL when that is empty).
        found["broker"] = lambda: _ping_redis(settings.broker_url)
    found["identity_provider"] = _identity_provider
    return found


def run_checks() -> dict[str, str]:
    """name -> "ok", or "unreachable (ErrorType)": never the URL or the message (secrets)."""
    results: dict[str, str] = {}
    for name, check in checks().items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:
            log.warning("readiness: %s failed: %s", name, type(error).__name__)
            results[name] = f"unreachable ({type(error).__name__})"
    return results

"""The one way anything writes to the audit log, and how it is read back.

Every security-relevant action calls `record(...)`. The client's address and user agent come
from the caller, or from `client_context` (set per Reflex event by the event guard), so a
service need not thread them through. Details are small and never carry a secret: keys
that name one are dropped before anything is stored.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from compymac_rx.audit import repository
from compymac_rx.audit.models import ACTIONS, OUTCOMES, AuditEvent, AuditEventPublic, event_public
from compymac_rx.db import session_scope, utcnow
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

_client: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar(
    "compymac_audit_client", default=("", "")
)
# A detail whose key contains one of these is never stored (nor its value).
_SECRET_WORDS = ("password", "secret", "token", "key", "cookie", "hash", "code")
_DETAIL_ITEMS = 10
_DETAIL_CHARS = 200
PAGE_SIZE = 50
# Retention is enforced on write, at most this often per process.
_PRUNE_EVERY_SECONDS = 3600.0
_prune_lock = threading.Lock()
_last_prune = 0.0


def client_context(ip: str, user_agent: str) -> None:
    """Where the current request comes from; `record` uses it when not told explicitly."""
    _client.set((ip[:64], user_agent[:300]))


def current_client() -> tuple[str, str]:
    """(ip, user agent) that client_context set, for work handed to another thread."""
    return _client.get()


def _clean(detail: dict[str, Any] | None) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for name, value in (detail or {}).items():
        if any(word in name.lower() for word in _SECRET_WORDS):
            log.warning("audit: dropped detail %r (its name says secret)", name)
            continue
        if not isinstance(value, (bool, int, float)) and value is not None:
            value = str(value)[:_DETAIL_CHARS]
        kept[str(name)[:40]] = value
        if len(kept) >= _DETAIL_ITEMS:
            break
    return kept


def record(
    action: str,
    *,
    actor_id: str | None = None,
    subject_id: str | None = None,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    db: Session | None = None,
) -> None:
    """Blocking: store one event. With `db`, inside that transaction (it commits or rolls
    back with the action); otherwise in its own."""
    if action not in ACTIONS or outcome not in OUTCOMES:
        raise ValueError(f"unknown audit action or outcome: {action!r} {outcome!r}")
    context_ip, context_agent = _client.get()
    event = AuditEvent(
        actor_id=actor_id,
        subject_id=subject_id,
        action=action,
        target=target[:200],
        outcome=outcome,
        ip=(context_ip if ip is None else ip)[:64],
        user_agent=(context_agent if user_agent is None else user_agent)[:300],
        detail=_clean(detail),
    )
    if db is not None:
        _store(db, event)
    else:
        with session_scope() as own:
            _store(own, event)


def own(action: str, user_id: str, *, target: str = "", **fields: Any) -> None:
    """`record` for what a person did to their own things: they are both actor and subject,
    and the target is their account unless another is named."""
    target = target or f"user:{user_id}"
    record(action, actor_id=user_id, subject_id=user_id, target=target, **fields)


def _store(db: Session, event: AuditEvent) -> None:
    repository.add_event(db, event=event)
    # In the same transaction: a second one would wait on this one's lock (SQLite).
    if _prune_due():
        _prune_in(db, event.at)


def prune(now: datetime | None = None) -> int:
    """Delete events older than AUDIT_RETENTION_DAYS (0 keeps them all); returns how many."""
    with session_scope() as db:
        return _prune_in(db, now or utcnow())


def _prune_in(db: Session, now: datetime) -> int:
    days = get_settings().audit_retention_days
    if days <= 0:
        return 0
    return repository.delete_events_before(db, before=now - timedelta(days=days))


def _prune_due() -> bool:
    global _last_prune
    with _prune_lock:
        if time.monotonic() - _last_prune < _PRUNE_EVERY_SECONDS:
            return False
        _last_prune = time.monotonic()
        return True


def events_for_user(user_id: str, *, page: int = 0) -> list[AuditEventPublic]:
    """The security events of the user's own account, newest first."""
    with session_scope() as db:
        rows = repository.list_events_for_user(
            db, user_id=user_id, limit=PAGE_SIZE, offset=max(page, 0) * PAGE_SIZE
        )
        return [event_public(row) for row in rows]

"""The admin page's audit log: filters (user, action, time range) and paging.

The service re-reads the actor's admin flag on every call; this state only keeps the view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import reflex as rx

from compymac_rx.accounts import audit_log
from compymac_rx.accounts.admins import NotAdmin
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.audit import service as audit
from compymac_rx.audit.models import ACTIONS
from compymac_rx.db import utcnow
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in

RANGES = {"1": "last 24 hours", "7": "last 7 days", "30": "last 30 days", "all": "all time"}


def audit_rows(
    actor_id: str, user_email: str, action: str, days: str, page: int
) -> list[dict[str, str]]:
    """Blocking: one page of events matching the filters, as plain strings."""
    since = utcnow() - timedelta(days=int(days)) if days in RANGES and days != "all" else None
    filters = audit_log.AuditFilter(user_email=user_email, action=action, since=since)
    return [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.actor_email or e.actor_id or "",
            "subject": e.subject_email or e.subject_id or "",
            "action": e.action,
            "target": e.target,
            "outcome": e.outcome,
            "ip": e.ip,
            "detail": ", ".join(f"{k}={v}" for k, v in e.detail.items()),
        }
        for e in audit_log.events_for_admin(actor_id, filters, page=page)
    ]


class AuditState(AuthState):
    rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    user_filter: str = ""
    action_filter: str = "any"
    range_filter: str = "7"
    page: int = 0
    audit_error: str = ""

    @rx.var
    def action_choices(self) -> list[str]:
        return ["any", *ACTIONS]

    @rx.var
    def has_next(self) -> bool:
        return len(self.rows) >= audit.PAGE_SIZE

    async def _show(self, user: CurrentUser) -> None:
        if not user.is_admin:
            self.rows = []
            return
        action = "" if self.action_filter == "any" else self.action_filter
        try:
            self.rows = await off_loop(
                audit_rows, user.id, self.user_filter, action, self.range_filter, self.page
            )
            self.audit_error = ""
        except NotAdmin:
            self.rows, self.audit_error = [], "Only administrators see the audit log."

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        self.page = 0
        await self._show(user)

    @rx.event
    @signed_in
    async def apply_filters(self, user: CurrentUser, form: dict[str, Any]) -> None:
        email, action, days = form.get("user", ""), form.get("action", ""), form.get("range", "")
        self.user_filter = email.strip()[:320] if isinstance(email, str) else ""
        self.action_filter = action if action in ACTIONS else "any"
        self.range_filter = days if days in RANGES else "7"
        self.page = 0
        await self._show(user)

    @rx.event
    @signed_in
    async def next_page(self, user: CurrentUser) -> None:
        if self.has_next:
            self.page += 1
        await self._show(user)

    @rx.event
    @signed_in
    async def previous_page(self, user: CurrentUser) -> None:
        self.page = max(self.page - 1, 0)
        await self._show(user)

"""The admin page's usage dashboard. The role is checked again by the service."""

from __future__ import annotations

import dataclasses

import reflex as rx

from compymac_rx.accounts.admins import NotAdmin
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import Choice
from compymac_rx.usage import service as usage

SUMMARY = ("active_users", "turns", "failed_turns", "tool_runs")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class UsageState(AuthState):
    days: str = "30"
    summary: dict[str, int] = {}
    daily: list[dict[str, str | int]] = []
    models: list[dict[str, str | int]] = []
    top_users: list[dict[str, str | int]] = []
    storage: list[dict[str, str | int]] = []

    async def _refresh(self, user: CurrentUser) -> None:
        if not user.is_admin:
            return
        try:
            board = await off_loop(usage.dashboard, user.id, days=int(self.days))
        except NotAdmin:
            return
        # The charts and tables read the shapes' own field names.
        self.summary = {name: getattr(board, name) for name in SUMMARY}
        self.daily = [dataclasses.asdict(d) for d in board.daily]
        self.models = [dataclasses.asdict(m) for m in board.models]
        self.top_users = [dataclasses.asdict(u) for u in board.top_users]
        self.storage = [
            {"email": s.email, "messages": s.messages, "size": _size(s.bytes)}
            for s in board.storage
        ]

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        await self._refresh(user)

    @rx.event
    @signed_in
    async def set_range(self, user: CurrentUser, days: Choice) -> None:
        self.days = days if days.isdigit() and int(days) in usage.RANGES else "30"
        await self._refresh(user)

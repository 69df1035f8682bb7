"""The sessions sidebar: list, create, rename, archive, delete."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.chats import service as chats
from compymac_rx.chats.models import SessionPublic
from compymac_rx.db import utcnow
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.confirm import ConfirmDelete
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import Id, ShortText
from compymac_rx.state.views import SessionItem, session_item


class SessionsState(ConfirmDelete, AuthState):
    sessions: rx.Field[list[SessionItem]] = rx.field(default_factory=list)
    current_id: str = ""
    show_archived: bool = False
    sidebar_open: bool = False
    rename_id: str = ""
    rename_title: str = ""
    notice: str = ""

    def _show(self, rows: list[SessionPublic], current_id: str) -> None:
        now = utcnow()
        self.sessions = [session_item(row, now) for row in rows]
        self.current_id, self.sidebar_open = current_id, False

    async def _refresh(self, user_id: str) -> None:
        rows = await off_loop(chats.list_sessions, user_id, archived=self.show_archived)
        self._show(rows, self.current_id)

    def _touched(self, session_id: str, title: str) -> None:
        """A message was sent there: it moves to the top, with its (maybe new) title."""
        if self.show_archived:
            return
        first = self.sessions[0] if self.sessions else None
        if first is not None and first.id == session_id and first.title == title:
            return
        rest = [item for item in self.sessions if item.id != session_id]
        self.sessions = [SessionItem(session_id, title, False, "just now"), *rest]

    @rx.event
    @signed_in
    async def new_session(self, user: CurrentUser) -> EventSpec:
        created = await off_loop(chats.create_session, user.id)
        self.show_archived, self.sidebar_open = False, False
        return rx.redirect(routes.session_url(created.id))

    @rx.event
    @signed_in
    async def toggle_archived_view(self, user: CurrentUser) -> None:
        self.show_archived = not self.show_archived
        await self._refresh(user.id)

    @rx.event
    def toggle_sidebar(self) -> None:
        self.sidebar_open = not self.sidebar_open

    @rx.event
    def start_rename(self, session_id: Id, title: ShortText) -> None:
        self.rename_id, self.rename_title, self.notice = session_id, title, ""

    @rx.event
    def set_rename_title(self, value: ShortText) -> None:
        self.rename_title = value

    @rx.event
    def cancel_rename(self) -> None:
        self.rename_id, self.notice = "", ""

    @rx.event
    @signed_in
    async def save_rename(self, user: CurrentUser) -> None:
        try:
            await off_loop(chats.rename_session, user.id, self.rename_id, self.rename_title)
        except chats.ChatError as error:
            self.notice = str(error)
            return
        self.rename_id, self.notice = "", ""
        await self._refresh(user.id)

    @rx.event
    @signed_in
    async def set_archived(self, user: CurrentUser, session_id: Id, archived: bool) -> None:
        try:
            await off_loop(chats.set_archived, user.id, session_id, archived)
        except chats.ChatError as error:
            self.notice = str(error)
        await self._refresh(user.id)

    @rx.event
    def ask_delete(self, session_id: Id, title: ShortText) -> None:
        self._ask_delete(session_id, title)

    async def _delete(self, user: CurrentUser, deleted: str) -> EventSpec | None:
        try:
            await off_loop(chats.delete_session, user.id, deleted)
        except chats.ChatError as error:
            self.notice = str(error)
        await self._refresh(user.id)
        if routes.session_id_from_path(self.router.url.path) == deleted:
            return rx.redirect(routes.HOME)
        return None

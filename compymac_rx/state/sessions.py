"""The sessions sidebar: list, create, rename, archive, delete."""

from __future__ import annotations

from datetime import datetime

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.chats import changes
from compymac_rx.chats import service as chats
from compymac_rx.chats.models import SessionPublic
from compymac_rx.db import utcnow
from compymac_rx.jobs.events import UserEvent
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.confirm import ConfirmDelete
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import Id, ShortText
from compymac_rx.state.sidebar_fold import remove, upsert
from compymac_rx.state.views import SessionItem, session_item


class SessionsState(ConfirmDelete, AuthState):
    sessions: rx.Field[list[SessionItem]] = rx.field(default_factory=list)
    current_id: str = ""
    show_archived: bool = False
    sidebar_open: bool = False
    rename_id: str = ""
    rename_title: str = ""
    notice: str = ""
    # The open session was deleted in another tab (or window, or through the API).
    deleted_open: bool = False
    # The rows behind `sessions`, for the server only: changes from other tabs are put in place.
    _rows: rx.Field[list[SessionPublic]] = rx.field(default_factory=list)

    def _show(self, rows: list[SessionPublic], current_id: str) -> None:
        self._set_rows(rows)
        self.current_id, self.sidebar_open, self.deleted_open = current_id, False, False

    def _set_rows(self, rows: list[SessionPublic]) -> None:
        self._rows = rows
        now = utcnow()
        items = [session_item(row, now) for row in rows]
        if items != self.sessions:
            self.sessions = items

    def _apply_change(self, event: UserEvent) -> bool:
        """A change to one of the user's sessions, made anywhere (this tab too).
        True when it deleted the session this tab has open."""
        if event.kind == changes.SESSION_DELETED:
            session_id = str(event.payload.get("session_id", ""))
            rows = remove(self._rows, session_id)
            deleted_open = bool(session_id) and session_id == self.current_id
        elif event.kind == changes.SESSION:
            row = changes.session_from_payload(event.payload["session"])
            rows = upsert(self._rows, row, archived_view=self.show_archived)
            deleted_open = False
        else:
            return False
        if rows is not None:
            self._set_rows(rows)
        if deleted_open:
            self.current_id, self.deleted_open = "", True
        return deleted_open

    async def _refresh(self, user_id: str) -> None:
        rows = await off_loop(chats.list_sessions, user_id, archived=self.show_archived)
        self._show(rows, self.current_id)

    def _touched(self, session_id: str, title: str, activity: datetime) -> None:
        """A message was sent there at `activity`: it moves to the top, with its (maybe new)
        title."""
        row = SessionPublic(session_id, title, False, activity)
        if (rows := upsert(self._rows, row, archived_view=self.show_archived)) is not None:
            self._set_rows(rows)

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

"""The sessions sidebar: list, create, rename, archive, delete."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.chats import service as chats
from compymac_rx.db import utcnow
from compymac_rx.state.auth import AuthState
from compymac_rx.state.views import SessionItem, session_item

Redirect = EventSpec


class SessionsState(AuthState):
    sessions: rx.Field[list[SessionItem]] = rx.field(default_factory=list)
    current_id: str = ""
    show_archived: bool = False
    sidebar_open: bool = False
    rename_id: str = ""
    rename_title: str = ""
    delete_id: str = ""
    delete_title: str = ""
    notice: str = ""

    def refresh_for(self, user_id: str) -> None:
        now = utcnow()
        rows = chats.list_sessions(user_id, archived=self.show_archived)
        self.sessions = [session_item(row, now) for row in rows]

    @rx.event
    def new_session(self) -> Redirect:
        if (user := self._current_user()) is None:
            return self._to_signin()
        created = chats.create_session(user.id)
        self.show_archived, self.sidebar_open = False, False
        self.refresh_for(user.id)
        return rx.redirect(routes.session_url(created.id))

    @rx.event
    def toggle_archived_view(self) -> Redirect | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        self.show_archived = not self.show_archived
        self.refresh_for(user.id)
        return None

    @rx.event
    def toggle_sidebar(self) -> None:
        self.sidebar_open = not self.sidebar_open

    @rx.event
    def start_rename(self, session_id: str, title: str) -> None:
        self.rename_id, self.rename_title, self.notice = session_id, title, ""

    @rx.event
    def set_rename_title(self, value: str) -> None:
        self.rename_title = value

    @rx.event
    def cancel_rename(self) -> None:
        self.rename_id, self.notice = "", ""

    @rx.event
    def save_rename(self) -> Redirect | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        try:
            chats.rename_session(user.id, self.rename_id, self.rename_title)
        except chats.ChatError as error:
            self.notice = str(error)
            return None
        self.rename_id, self.notice = "", ""
        self.refresh_for(user.id)
        return None

    @rx.event
    def set_archived(self, session_id: str, archived: bool) -> Redirect | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        try:
            chats.set_archived(user.id, session_id, archived)
        except chats.ChatError as error:
            self.notice = str(error)
        self.refresh_for(user.id)
        return None

    @rx.event
    def ask_delete(self, session_id: str, title: str) -> None:
        self.delete_id, self.delete_title = session_id, title

    @rx.event
    def cancel_delete(self) -> None:
        self.delete_id = ""

    @rx.event
    def confirm_delete(self) -> Redirect | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        deleted, self.delete_id = self.delete_id, ""
        try:
            chats.delete_session(user.id, deleted)
        except chats.ChatError as error:
            self.notice = str(error)
        self.refresh_for(user.id)
        if routes.session_id_from_path(self.router.url.path) == deleted:
            return rx.redirect(routes.HOME)
        return None

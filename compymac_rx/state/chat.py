"""One open session: its history, the composer, and the live turn."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.agent import factory
from compymac_rx.chats import service as chats
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import JobEvent
from compymac_rx.settings import get_settings
from compymac_rx.state.auth import AuthState
from compymac_rx.state.files import FilesState
from compymac_rx.state.live import hub
from compymac_rx.state.sessions import SessionsState
from compymac_rx.state.views import MessageView, live_tool_view, message_view

COMPOSER_ID = "composer"
Redirect = EventSpec


class ChatState(AuthState):
    current_id: str = ""
    title: str = ""
    not_found: bool = False
    messages: rx.Field[list[MessageView]] = rx.field(default_factory=list)
    has_older: bool = False
    live_text: str = ""
    live_tools: rx.Field[list[MessageView]] = rx.field(default_factory=list)
    job_id: str = ""
    job_status: str = ""
    job_error: str = ""
    queue_position: int = 0
    notice: str = ""
    model: str = ""
    model_choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    _user_id: str = ""
    _seq: int = -1

    @rx.var
    def queue_label(self) -> str:
        """Over the running limit, a turn waits; its place in line is shown."""
        if self.queue_position > 0:
            return f"queued · #{self.queue_position} in line"
        return "queued"

    @rx.var
    def running(self) -> bool:
        return self.job_status in ("queued", "running")

    def _reset_view(self) -> None:
        self.current_id, self.title, self.not_found, self.notice = "", "", False, ""
        self.messages, self.has_older = [], False
        self.job_id, self.job_status, self.job_error, self._seq = "", "", "", -1
        self.live_text, self.live_tools, self.queue_position = "", [], 0

    @rx.event
    async def load_page(self) -> Redirect | None:
        """on_load of `/` and `/s/<id>`: check sign-in, fill the sidebar, open the session."""
        if (user := self._current_user()) is None:
            return self._to_signin()
        self._user_id = user.id
        self._reset_view()
        session_id = routes.session_id_from_path(self.router.url.path) or ""
        sidebar = await self.get_state(SessionsState)
        sidebar.current_id, sidebar.sidebar_open = session_id, False
        sidebar.refresh_for(user.id)
        token = self.router.session.client_token
        if not session_id:
            hub.forget(token)
            return None
        found = chats.get_session(user.id, session_id)
        if found is None:
            self.not_found = True
            hub.forget(token)
            return None
        self.current_id, self.title = found.id, found.title
        self.model = factory.resolve_choice(user.id, chats.get_session_model(user.id, session_id))
        self.model_choices = [[v, label] for v, label in factory.model_choices(user.id)]
        (await self.get_state(FilesState)).refresh_for(user.id, session_id)
        rows = chats.load_messages(user.id, session_id)
        self.messages = [message_view(m) for m in rows]
        self.has_older = len(rows) >= get_settings().history_page_size
        # Watch first, then replay: an event published in between arrives twice, and the
        # sequence check drops the copy, so there is neither a gap nor a duplicate.
        hub.watch(token, session_id)
        if (job := chats.active_job(user.id, session_id)) is not None:
            self.job_id, self.job_status = job.id, job.status
            for event in get_bus().replay(job.id):
                self.apply_event(event)
        return None

    @rx.event
    async def send(self, form: dict[str, Any]) -> Redirect | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        try:
            job_id = chats.send_message(user.id, self.current_id, str(form.get("message", "")))
        except chats.ChatError as error:
            self.notice = str(error)
            return None
        self._started(job_id)
        self._sync()
        if (found := chats.get_session(user.id, self.current_id)) is not None:
            self.title = found.title
        (await self.get_state(SessionsState)).refresh_for(user.id)
        return rx.set_value(COMPOSER_ID, "")

    def _started(self, job_id: str) -> None:
        self.notice, self.job_id, self._seq = "", job_id, 0
        self.job_status, self.job_error, self.live_text, self.live_tools = "queued", "", "", []

    def restarted(self, job_id: str) -> None:
        """A turn started again from an earlier message: the history after it is gone."""
        self._started(job_id)
        self.messages = [
            message_view(m) for m in chats.load_messages(self._user_id, self.current_id)
        ]

    @rx.event
    def stop(self) -> Redirect | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        if not chats.stop_turn(user.id, self.current_id):
            self.notice = "Nothing is running."
        return None

    @rx.event
    def load_older(self) -> Redirect | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        if not self.messages or not self.has_older:
            return None
        rows = chats.load_messages(user.id, self.current_id, before_seq=self.messages[0].seq)
        self.messages = [message_view(m) for m in rows] + self.messages
        self.has_older = len(rows) >= get_settings().history_page_size
        return None

    def _sync(self) -> None:
        """Append stored messages newer than the last one shown."""
        page = get_settings().history_page_size
        while True:
            after = self.messages[-1].seq if self.messages else 0
            rows = chats.load_messages(self._user_id, self.current_id, after_seq=after)
            self.messages = self.messages + [message_view(m) for m in rows]
            if len(rows) < page:
                return

    async def deliver(self, event: JobEvent) -> None:
        """Apply an event; when a tool ran or the turn ended, the file panel may have changed."""
        self.apply_event(event)
        if event.session_id == self.current_id and (event.kind == "tool_end" or event.terminal):
            (await self.get_state(FilesState)).refresh_for(self._user_id, self.current_id)

    def apply_event(self, event: JobEvent, *, fill_gap: bool = True) -> None:
        """Fold one job event into the view; events at or below the last seq are copies.

        A gap (events lost while Redis or this backend reconnected) is filled from the bus's
        replay first, so the view never skips a step.
        """
        if event.session_id != self.current_id or event.user_id != self._user_id:
            return
        if event.job_id != self.job_id:
            self.job_id, self._seq, self.live_text, self.live_tools = event.job_id, -1, "", []
        if event.seq <= self._seq:
            return
        if fill_gap and event.seq > self._seq + 1:
            for missed in get_bus().replay(event.job_id, after_seq=self._seq):
                if missed.seq < event.seq:
                    self.apply_event(missed, fill_gap=False)
        self._seq = event.seq
        payload = event.payload
        if event.kind == "delta":
            self.live_text += str(payload.get("text", ""))
        elif event.kind == "tool_start":
            view = live_tool_view(str(payload["call_id"]), str(payload["tool"]), payload["args"])
            self.live_tools = [*self.live_tools, view]
        elif event.kind == "tool_end":
            self.live_tools = [t for t in self.live_tools if t.call_id != payload["call_id"]]
            self._sync()
        elif event.kind == "message":
            self.live_text = ""
            self._sync()
        elif event.kind == "status":
            if payload.get("retry"):  # a redelivered job starts its unfinished step again
                self.live_text, self.live_tools = "", []
            self.job_status = str(payload.get("status", ""))
            self.queue_position = int(payload.get("position") or 0)
            self.job_error = str(payload.get("error") or "")
            self._sync()
            if event.terminal:
                self.live_text, self.live_tools = "", []

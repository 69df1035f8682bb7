"""One open session: its history, the composer, and what opens the live turn."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.chats import service as chats
from compymac_rx.db import new_id, utcnow
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings
from compymac_rx.state import loading
from compymac_rx.state.attach import AttachState
from compymac_rx.state.auth import AuthState
from compymac_rx.state.files import FilesState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.live import hub, user_tabs
from compymac_rx.state.live_turn import LiveState
from compymac_rx.state.payloads import MessageId
from compymac_rx.state.sessions import SessionsState
from compymac_rx.state.views import MessageView, message_view

COMPOSER_ID = "composer"
# Built once: making the event spec per send cost a signature inspection (py-spy).
CLEAR_COMPOSER = rx.set_value(COMPOSER_ID, "")


class ChatState(AuthState):
    current_id: str = ""
    title: str = ""
    not_found: bool = False
    # History as loaded when the page opened (and older pages on scroll); what happens
    # afterwards lands in LiveState's recent slots, so a turn never resends this list.
    messages: rx.Field[list[MessageView]] = rx.field(default_factory=list)
    has_older: bool = False
    # The message a search result opened (0: none); the page scrolls to it and marks it.
    hit_seq: int = 0
    notice: str = ""
    model: str = ""
    model_choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    # A tool's whole output, opened from its preview.
    output_title: str = ""
    output_text: str = ""

    @rx.event
    @signed_in
    async def load_page(self, user: CurrentUser) -> EventSpec | None:
        """on_load of `/` and `/s/<id>`: fill the sidebar, open the session, follow its turn."""
        session_id = routes.session_id_from_path(self.router.url.path) or ""
        sidebar = await self.get_state(SessionsState)
        live = await self.get_state(LiveState)
        files = await self.get_state(FilesState)
        (await self.get_state(AttachState))._reset(session_id)
        token = self.router.session.client_token
        user_tabs.watch(token, user.id)  # the sidebar follows changes made in other tabs
        # Watch first, then read: an event published in between arrives twice, and the
        # sequence check drops the copy, so there is neither a gap nor a duplicate.
        if session_id:
            hub.watch(token, session_id)
        else:
            hub.forget(token)
        self.hit_seq = routes.message_seq_from_query(self.router.url.query_parameters)
        page = await off_loop(
            loading.open_page, user.id, session_id, sidebar.show_archived, self.hit_seq
        )
        sidebar._show(page.sessions, session_id)
        self.notice, self.output_title, self.output_text = "", "", ""
        if await self._resumed(user.id, page):
            return None
        if page.session is None:
            hub.forget(token)
            self.current_id, self.title, self.messages, self.has_older = "", "", [], False
            self.not_found = bool(session_id)
            live._open(user.id, "", 0)
            files._show(session_id="", entries=[])
            return None
        self.not_found = False
        self.current_id, self.title = page.session.id, page.session.title
        self.model, self.model_choices = page.model, page.model_choices
        self.messages = [message_view(m) for m in page.messages]
        self.has_older = page.has_older
        live._open(user.id, session_id, page.messages[-1].seq if page.messages else 0)
        files._show(session_id=session_id, entries=page.files)
        if page.job is not None:
            live._turn.job_id, live._turn.status = page.job.id, page.job.status
            await live._apply(page.replay)
        return None

    @rx.event
    @signed_in
    async def send(self, user: CurrentUser, form: dict[str, Any]) -> EventSpec | None:
        text = form.get("message", "")
        if not isinstance(text, str):
            return None
        # This tab shows the queued turn itself: the "queued" event for the owner's other tabs
        # is dropped here before it costs a state update.
        job_id, now = new_id(), utcnow()
        token = self.router.session.client_token
        hub.shown(token, job_id, 0)
        # This tab moves the session to the top itself: the announcement is not applied here.
        user_tabs.shows(token, self.current_id, now)
        attach = await self.get_state(AttachState)
        try:
            sent = await off_loop(
                chats.send_turn,
                user.id,
                self.current_id,
                text,
                job_id=job_id,
                attach=attach._paths(),
                now=now,
            )
        except chats.ChatError as error:
            self.notice = str(error)
            return None
        attach._sent()
        if self.notice:
            self.notice = ""
        live = await self.get_state(LiveState)
        live._started(sent.job_id, message_view(sent.message))
        if live._trimmed:
            await self._leave_older()
        if sent.title != self.title:
            self.title = sent.title
        (await self.get_state(SessionsState))._touched(self.current_id, sent.title, now)
        return CLEAR_COMPOSER

    @rx.event
    @signed_in
    async def stop(self, user: CurrentUser) -> None:
        if not await off_loop(chats.stop_turn, user.id, self.current_id):
            self.notice = "Nothing is running."

    @rx.event
    @signed_in
    async def load_older(self, user: CurrentUser) -> None:
        live = await self.get_state(LiveState)
        oldest = self.messages[0] if self.messages else (live._recent[0] if live._recent else None)
        if oldest is None or not self.has_older:
            return
        rows = await off_loop(chats.load_messages, user.id, self.current_id, before_seq=oldest.seq)
        self.messages = [message_view(m) for m in rows] + self.messages
        self.has_older = len(rows) >= get_settings().history_page_size

    @rx.event
    @signed_in
    async def show_output(self, user: CurrentUser, message_id: MessageId, tool: str) -> None:
        """Open a tool's whole output (the conversation shows a preview)."""
        try:
            text = await off_loop(chats.message_content, user.id, self.current_id, message_id)
        except chats.ChatError as error:
            self.notice = str(error)
            return
        self.output_title, self.output_text = tool[:200], text

    @rx.event
    def close_output(self) -> None:
        self.output_title, self.output_text = "", ""

    async def _resumed(self, user_id: str, page: loading.OpenedPage) -> bool:
        """Back on the session it showed while the same turn runs (a reconnect): the history
        it has is whole (nothing else can change it while a turn runs), so the turn goes on
        from its last seq instead of the page loading again."""
        live = await self.get_state(LiveState)
        if page.session is None or page.job is None or self.hit_seq or self.not_found:
            return False
        if self.current_id != page.session.id:
            return False
        if not await live._resume(user_id, page.session.id, page.job.id, page.replay):
            return False
        self.title = page.session.title
        if live._trimmed:
            await self._leave_older()
        files = await self.get_state(FilesState)
        files._show(session_id=page.session.id, entries=page.files)
        return True

    async def _leave_older(self) -> None:
        """The live view dropped its oldest messages: the history before them goes too, and
        comes back page by page with "Load older" (sending an empty list costs nothing)."""
        if self.messages:
            self.messages = []
        self.has_older = True
        (await self.get_state(LiveState))._trimmed = False

    async def _restarted(self, user_id: str, job_id: str) -> None:
        """A turn started again from an earlier message (a new version of it)."""
        await self._reload(user_id)
        (await self.get_state(LiveState))._started(job_id, None)

    async def _reload(self, user_id: str) -> None:
        """The history again, as the chosen versions now make it (one off-loop read)."""
        rows = await off_loop(chats.load_messages, user_id, self.current_id)
        self.messages = [message_view(m) for m in rows]
        self.has_older = len(rows) >= get_settings().history_page_size
        live = await self.get_state(LiveState)
        live._open(user_id, self.current_id, rows[-1].seq if rows else 0)

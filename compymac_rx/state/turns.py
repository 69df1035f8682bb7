"""Turn controls beside the conversation: the session's model, regenerate, edit and resend."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx.agent import factory
from compymac_rx.chats import service as chats
from compymac_rx.state.auth import AuthState
from compymac_rx.state.chat import ChatState


class TurnState(AuthState):
    edit_id: int = 0
    edit_text: str = ""
    error: str = ""

    @rx.event
    async def set_model(self, choice: str) -> EventSpec | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        chat = await self.get_state(ChatState)
        if choice in {value for value, _ in factory.model_choices(user.id)}:
            chats.set_session_model(user.id, chat.current_id, choice)
            chat.model = choice
        return None

    @rx.event
    async def regenerate(self) -> EventSpec | None:
        """Send the last user message again; its old reply is replaced."""
        if (user := self._current_user()) is None:
            return self._to_signin()
        chat = await self.get_state(ChatState)
        try:
            job_id = chats.resend_from(user.id, chat.current_id, None, None)
        except chats.ChatError as error:
            chat.notice = str(error)
            return None
        chat.restarted(job_id)
        return None

    @rx.event
    def open_edit(self, message_id: int, content: str) -> None:
        self.edit_id, self.edit_text, self.error = message_id, content, ""

    @rx.event
    def close_edit(self) -> None:
        self.edit_id, self.error = 0, ""

    @rx.event
    async def resend(self, form: dict[str, Any]) -> EventSpec | None:
        """Edit one of your messages and send it again; the replies after it are replaced."""
        if (user := self._current_user()) is None:
            return self._to_signin()
        chat = await self.get_state(ChatState)
        try:
            job_id = chats.resend_from(
                user.id, chat.current_id, self.edit_id, str(form.get("text", ""))
            )
        except chats.ChatError as error:
            self.error = str(error)
            return None
        self.edit_id = 0
        chat.restarted(job_id)
        return None

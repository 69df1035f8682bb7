"""Editing one of your messages and sending it again (the replies after it are replaced)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx.chats import service as chats
from compymac_rx.state.auth import AuthState
from compymac_rx.state.chat import ChatState


class EditState(AuthState):
    edit_id: int = 0
    edit_text: str = ""
    error: str = ""

    @rx.event
    def open(self, message_id: int, content: str) -> None:
        self.edit_id, self.edit_text, self.error = message_id, content, ""

    @rx.event
    def close(self) -> None:
        self.edit_id, self.error = 0, ""

    @rx.event
    async def resend(self, form: dict[str, Any]) -> EventSpec | None:
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

"""Turn controls beside the conversation: the session's model, regenerate, edit and resend,
and switching a turn's versions."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.chats import service as chats
from compymac_rx.keys import choice as model_choice
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.chat import ChatState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import Choice, MessageId


class TurnState(AuthState):
    edit_id: int = 0
    edit_text: str = ""
    error: str = ""

    @rx.event
    @signed_in
    async def set_model(self, user: CurrentUser, choice: Choice) -> None:
        chat = await self.get_state(ChatState)
        if await off_loop(_set_model, user.id, chat.current_id, choice):
            chat.model = choice

    @rx.event
    @signed_in
    async def regenerate(self, user: CurrentUser) -> None:
        """Send the last user message again: a new version of the turn (the old one stays)."""
        chat = await self.get_state(ChatState)
        try:
            job_id = await off_loop(chats.resend_from, user.id, chat.current_id, None, None)
        except chats.ChatError as error:
            chat.notice = str(error)
            return
        await chat._restarted(user.id, job_id)

    @rx.event
    def open_edit(self, message_id: MessageId, content: str) -> None:
        self.edit_id, self.edit_text, self.error = message_id, content, ""

    @rx.event
    def close_edit(self) -> None:
        self.edit_id, self.error = 0, ""

    @rx.event
    @signed_in
    async def resend(self, user: CurrentUser, form: dict[str, Any]) -> None:
        """Edit one of your messages and send it again, as a new version of its turn."""
        chat = await self.get_state(ChatState)
        text = form.get("text", "")
        if not isinstance(text, str):
            return
        try:
            job_id = await off_loop(chats.resend_from, user.id, chat.current_id, self.edit_id, text)
        except chats.ChatError as error:
            self.error = str(error)
            return
        self.edit_id = 0
        await chat._restarted(user.id, job_id)

    @rx.event
    @signed_in
    async def show_version(self, user: CurrentUser, message_id: MessageId) -> None:
        """Show another version of a turn (the user message `message_id` starts it)."""
        chat = await self.get_state(ChatState)
        try:
            await off_loop(chats.choose_version, user.id, chat.current_id, message_id)
        except chats.ChatError as error:
            chat.notice = str(error)
            return
        await chat._reload(user.id)


def _set_model(user_id: str, session_id: str, choice: str) -> bool:
    """Blocking: the session's model, if the user may choose it."""
    if choice not in {value for value, _ in model_choice.model_choices(user_id)}:
        return False
    chats.set_session_model(user_id, session_id, choice)
    return True

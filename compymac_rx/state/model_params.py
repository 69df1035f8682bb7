"""The model's parameters in the UI: the user's default system prompt (Settings), and one
session's prompt, temperature and max output tokens (the session dialog)."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.agent.params import ParamsRefused
from compymac_rx.chats import service as chats
from compymac_rx.keys import service as keys
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.chat import ChatState
from compymac_rx.state.guard import signed_in


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise ParamsRefused("That form was not understood. Reload the page.")
    return value


class PromptState(AuthState):
    """The default system prompt on the Settings page."""

    system_prompt: str = ""
    # Changes when the stored prompt is (re)loaded: the field is uncontrolled, so a new key
    # makes React mount it again with the loaded text.
    form_key: int = 0
    result: str = ""
    result_ok: bool = True

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        self.system_prompt = await off_loop(keys.get_system_prompt, user.id)
        self.form_key += 1
        self.result = ""

    @rx.event
    @signed_in
    async def save(self, user: CurrentUser, form: dict[str, Any]) -> None:
        try:
            saved = await off_loop(keys.set_system_prompt, user.id, _text(form, "system_prompt"))
        except ParamsRefused as error:
            self.result, self.result_ok = str(error), False
            return
        self.system_prompt = saved
        self.result, self.result_ok = (
            ("Default system prompt saved." if saved else "The built-in system prompt is used."),
            True,
        )


@dataclasses.dataclass(frozen=True)
class _DialogView:
    params: chats.SessionParams
    default_prompt: str
    limit: int


def _dialog_view(user_id: str, session_id: str) -> _DialogView:
    """Blocking: the session's own values and what an empty field inherits."""
    return _DialogView(
        chats.get_session_params(user_id, session_id),
        keys.get_system_prompt(user_id),
        chats.max_tokens_limit(),
    )


class SessionParamsState(AuthState):
    """The session dialog opened from the header: prompt, temperature, max output tokens."""

    is_open: bool = False
    system_prompt: str = ""
    temperature: str = ""
    max_tokens: str = ""
    # What an empty prompt field means, as its placeholder says.
    inherited_prompt: str = ""
    max_tokens_hint: str = ""
    error: str = ""

    @rx.event
    @signed_in
    async def open_dialog(self, user: CurrentUser) -> None:
        chat = await self.get_state(ChatState)
        try:
            view = await off_loop(_dialog_view, user.id, chat.current_id)
        except chats.ChatError as error:
            chat.notice = str(error)
            return
        params = view.params
        self.system_prompt = params.system_prompt
        self.temperature = "" if params.temperature is None else f"{params.temperature:g}"
        self.max_tokens = "" if params.max_output_tokens is None else str(params.max_output_tokens)
        self.inherited_prompt = (
            "Empty: your default prompt (" + view.default_prompt[:80] + ")"
            if view.default_prompt
            else "Empty: the built-in prompt"
        )
        self.max_tokens_hint = f"1 to {view.limit}; empty: the server's default"
        self.error, self.is_open = "", True

    @rx.event
    def close(self) -> None:
        self.is_open, self.error = False, ""

    @rx.event
    @signed_in
    async def save(self, user: CurrentUser, form: dict[str, Any]) -> None:
        chat = await self.get_state(ChatState)
        try:
            await off_loop(
                chats.set_session_params,
                user.id,
                chat.current_id,
                system_prompt=_text(form, "system_prompt"),
                temperature=_text(form, "temperature"),
                max_tokens=_text(form, "max_tokens"),
            )
        except (chats.ChatError, ParamsRefused) as error:
            self.error = str(error)
            return
        self.is_open, self.error = False, ""

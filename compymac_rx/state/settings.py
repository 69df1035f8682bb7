"""The settings page: the user's API keys (hints only) and default model."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.keys import choice as model_choice
from compymac_rx.keys import service as keys
from compymac_rx.keys.models import PROVIDER_LABELS
from compymac_rx.offload import off_loop
from compymac_rx.state.auth import AuthState
from compymac_rx.state.confirm import ConfirmDelete
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import Choice

KEY_INPUT_ID = "api-key-input"


@dataclasses.dataclass
class KeysView:
    saved: list[dict[str, str]]
    choices: list[list[str]]
    default_model: str


def _keys_view(user_id: str) -> KeysView:
    """Blocking: the user's keys (provider, label, base URL and hint only) and choices."""
    saved = [
        {
            "provider": k.provider,
            "label": PROVIDER_LABELS[k.provider],
            "base_url": k.base_url,
            "hint": k.hint,
        }
        for k in keys.list_keys(user_id)
    ]
    choices = [[value, label] for value, label in model_choice.model_choices(user_id)]
    return KeysView(saved, choices, model_choice.resolve_choice(user_id, ""))


def _set_default(user_id: str, choice: str) -> bool:
    if choice not in {value for value, _ in model_choice.model_choices(user_id)}:
        return False
    keys.set_default_model(user_id, choice)
    return True


class SettingsState(ConfirmDelete, AuthState):
    # Only provider, label, base URL and hint: the key itself never enters state.
    saved_keys: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    default_model: str = ""
    provider: str = "openai"
    result: str = ""
    result_ok: bool = True
    saving: bool = False

    async def _refresh(self, user_id: str) -> None:
        view = await off_loop(_keys_view, user_id)
        self.saved_keys, self.choices, self.default_model = (
            view.saved,
            view.choices,
            view.default_model,
        )

    @rx.event
    @signed_in
    async def load(self, user: CurrentUser) -> None:
        self.result, self.delete_target = "", ""
        await self._refresh(user.id)

    @rx.event
    def set_provider(self, provider: Choice) -> None:
        self.provider = provider

    @rx.event
    def start_save(self) -> None:
        self.saving, self.result = True, "Checking the key with the provider…"

    @rx.event
    @signed_in
    async def save(self, user: CurrentUser, form: dict[str, Any]) -> EventSpec:
        self.saving = False
        api_key, base_url = form.get("api_key", ""), form.get("base_url", "")
        try:
            if not isinstance(api_key, str) or not isinstance(base_url, str):
                raise keys.KeyRefused("That form was not understood. Reload the page.")
            # The provider is asked whether the key works: a slow one waits here, off the loop.
            saved = await off_loop(keys.save_key, user.id, self.provider, api_key, base_url)
        except keys.KeyRefused as error:
            self.result, self.result_ok = str(error), False
            return rx.set_value(KEY_INPUT_ID, "")
        count = len(saved.models)
        self.result, self.result_ok = (
            f"Key {saved.hint} saved: {PROVIDER_LABELS[saved.provider]} answered "
            f"with {count} model{'s' if count != 1 else ''}.",
            True,
        )
        await self._refresh(user.id)
        return rx.set_value(KEY_INPUT_ID, "")

    @rx.event
    def ask_delete(self, provider: Choice) -> None:
        self._ask_delete(provider)

    async def _delete(self, user: CurrentUser, target: str) -> None:
        if await off_loop(keys.delete_key, user.id, target):
            self.result, self.result_ok = "Key deleted.", True
        await self._refresh(user.id)

    @rx.event
    @signed_in
    async def set_default_model(self, user: CurrentUser, choice: Choice) -> None:
        if await off_loop(_set_default, user.id, choice):
            self.default_model = choice

"""The settings page: the user's API keys (hints only) and default model."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from compymac_rx.agent import factory
from compymac_rx.keys import service as keys
from compymac_rx.keys.models import PROVIDER_LABELS
from compymac_rx.state.auth import AuthState

KEY_INPUT_ID = "api-key-input"


class SettingsState(AuthState):
    # Only provider, label, base URL and hint: the key itself never enters state.
    saved_keys: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    default_model: str = ""
    provider: str = "openai"
    result: str = ""
    result_ok: bool = True
    saving: bool = False
    confirm_delete: str = ""

    def _refresh(self, user_id: str) -> None:
        self.saved_keys = [
            {
                "provider": k.provider,
                "label": PROVIDER_LABELS[k.provider],
                "base_url": k.base_url,
                "hint": k.hint,
            }
            for k in keys.list_keys(user_id)
        ]
        self.choices = [[value, label] for value, label in factory.model_choices(user_id)]
        self.default_model = factory.resolve_choice(user_id, "")

    @rx.event
    def load(self) -> EventSpec | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        self.result, self.confirm_delete = "", ""
        self._refresh(user.id)
        return None

    @rx.event
    def set_provider(self, provider: str) -> None:
        self.provider = provider

    @rx.event
    def start_save(self) -> None:
        self.saving, self.result = True, "Checking the key with the provider…"

    @rx.event
    def save(self, form: dict[str, Any]) -> EventSpec | list[EventSpec] | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        self.saving = False
        try:
            saved = keys.save_key(
                user.id, self.provider, str(form.get("api_key", "")), str(form.get("base_url", ""))
            )
        except keys.KeyRefused as error:
            self.result, self.result_ok = str(error), False
            return rx.set_value(KEY_INPUT_ID, "")
        count = len(saved.models)
        self.result, self.result_ok = (
            f"Key {saved.hint} saved: {PROVIDER_LABELS[saved.provider]} answered "
            f"with {count} model{'s' if count != 1 else ''}.",
            True,
        )
        self._refresh(user.id)
        return rx.set_value(KEY_INPUT_ID, "")

    @rx.event
    def ask_delete(self, provider: str) -> None:
        self.confirm_delete = provider

    @rx.event
    def cancel_delete(self) -> None:
        self.confirm_delete = ""

    @rx.event
    def delete(self) -> EventSpec | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        if keys.delete_key(user.id, self.confirm_delete):
            self.result, self.result_ok = "Key deleted.", True
        self.confirm_delete = ""
        self._refresh(user.id)
        return None

    @rx.event
    def set_default_model(self, choice: str) -> EventSpec | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        allowed = {value for value, _ in factory.model_choices(user.id)}
        if choice in allowed:
            keys.set_default_model(user.id, choice)
            self.default_model = choice
        return None

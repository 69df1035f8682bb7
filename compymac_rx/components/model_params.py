"""The model's parameters: the default system prompt (Settings) and the session dialog."""

from __future__ import annotations

import reflex as rx

from compymac_rx.agent.params import MAX_SYSTEM_PROMPT_CHARS
from compymac_rx.components.confirm import form_dialog
from compymac_rx.components.layout import icon_action, result_line, section
from compymac_rx.state.model_params import PromptState, SessionParamsState


def default_prompt_section() -> rx.Component:
    return section(
        "Default system prompt",
        rx.form(
            rx.vstack(
                rx.text_area(
                    name="system_prompt",
                    default_value=PromptState.system_prompt,
                    key=PromptState.form_key,
                    placeholder="Empty: the built-in coding-agent prompt",
                    aria_label="Default system prompt",
                    max_length=MAX_SYSTEM_PROMPT_CHARS,
                    rows="5",
                    width="100%",
                ),
                rx.button("Save prompt", type="submit", aria_label="Save the default prompt"),
                result_line(PromptState.result, PromptState.result_ok, "prompt-result"),
                width="100%",
                spacing="2",
            ),
            on_submit=PromptState.save,
            reset_on_submit=False,
            width="100%",
        ),
        intro="Sent first in every session that has no prompt of its own (OpenAI-compatible "
        "models; the builtin agent has none).",
    )


def session_params_button() -> rx.Component:
    return icon_action("sliders_horizontal", "Session settings", SessionParamsState.open_dialog)


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def session_params_dialog() -> rx.Component:
    return form_dialog(
        "Session settings",
        rx.vstack(
            _field(
                "System prompt",
                rx.text_area(
                    name="system_prompt",
                    default_value=SessionParamsState.system_prompt,
                    placeholder=SessionParamsState.inherited_prompt,
                    aria_label="System prompt for this session",
                    max_length=MAX_SYSTEM_PROMPT_CHARS,
                    rows="5",
                    width="100%",
                ),
            ),
            rx.hstack(
                _field(
                    "Temperature",
                    rx.input(
                        name="temperature",
                        default_value=SessionParamsState.temperature,
                        placeholder="0 to 2; empty: default",
                        aria_label="Temperature",
                        input_mode="decimal",
                        width="100%",
                    ),
                ),
                _field(
                    "Max output tokens",
                    rx.input(
                        name="max_tokens",
                        default_value=SessionParamsState.max_tokens,
                        placeholder=SessionParamsState.max_tokens_hint,
                        aria_label="Max output tokens",
                        input_mode="numeric",
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            width="100%",
            spacing="3",
        ),
        description="For OpenAI-compatible models; empty fields use your defaults.",
        error=SessionParamsState.error,
        submit="Save",
        on_submit=SessionParamsState.save,
        on_cancel=SessionParamsState.close,
        is_open=SessionParamsState.is_open,
    )

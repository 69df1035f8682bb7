"""A model's reasoning: a collapsed "Thinking" block above its answer, live or stored."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx.components.live_text import LiveText
from compymac_rx.components.markdown import safe_markdown
from compymac_rx.state.live_turn import LiveState


def thinking_block(reasoning: Any) -> rx.Component:
    """A stored reply's reasoning (closed until the reader opens it)."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(rx.icon("brain", size=14), rx.text("Thinking", size="1"), align="center"),
            aria_label="Show the model's reasoning",
        ),
        rx.box(safe_markdown(reasoning), class_name="thinking-text"),
        class_name="thinking",
        data_testid="thinking",
    )


def live_thinking() -> rx.Component:
    """The reasoning being streamed: pieces added up in the browser, like the reply."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(
                rx.spinner(size="1"),
                rx.text("Thinking…", size="1"),
                align="center",
            ),
            aria_label="Show the model's reasoning as it streams",
        ),
        rx.box(
            LiveText.create(
                stream_key=LiveState.think_key,
                base=LiveState.think_base,
                chunk=LiveState.think_chunk,
                index=LiveState.think_index,
            ),
            class_name="thinking-text",
        ),
        class_name="thinking",
        data_testid="live-thinking",
    )

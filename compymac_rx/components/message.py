"""A chat message: user and assistant bubbles, and the compact tool-call card."""

from __future__ import annotations

import reflex as rx

from compymac_rx.state.views import MessageView


def tool_card(message: MessageView) -> rx.Component:
    status = rx.cond(
        message.running,
        rx.hstack(rx.spinner(size="1"), rx.text("running", size="1"), align="center"),
        rx.cond(
            message.ok,
            rx.badge("ok", color_scheme="green", size="1"),
            rx.badge("failed", color_scheme="red", size="1"),
        ),
    )
    return rx.el.details(
        rx.el.summary(
            rx.hstack(
                rx.icon("wrench", size=14),
                rx.code(message.tool, size="1"),
                rx.text(message.args, size="1", color_scheme="gray", trim="both", truncate=True),
                rx.spacer(),
                status,
                rx.cond(
                    message.running,
                    rx.fragment(),
                    rx.text(message.duration, size="1", color_scheme="gray"),
                ),
                align="center",
                width="100%",
            ),
            aria_label="Tool call " + message.tool + ": show output",
        ),
        rx.cond(message.running, rx.fragment(), rx.el.pre(message.content)),
        class_name="tool-card",
        data_testid="tool-card",
    )


def message_bubble(message: MessageView) -> rx.Component:
    return rx.match(
        message.role,
        ("user", rx.box(rx.markdown(message.content), class_name="bubble user")),
        ("assistant", rx.box(rx.markdown(message.content), class_name="bubble assistant")),
        ("tool", tool_card(message)),
        rx.fragment(),
    )

"""A chat message: user and assistant bubbles, and the compact tool-call card."""

from __future__ import annotations

import reflex as rx

from compymac_rx.components.attach import message_chips
from compymac_rx.components.confirm import form_dialog
from compymac_rx.components.copy import copy_button
from compymac_rx.components.markdown import safe_markdown
from compymac_rx.components.thinking import thinking_block
from compymac_rx.components.versions import version_switch
from compymac_rx.state.chat import ChatState
from compymac_rx.state.live_turn import LiveState
from compymac_rx.state.turns import TurnState
from compymac_rx.state.views import MessageView


def tool_card(message: MessageView) -> rx.Component:
    status = rx.cond(
        message.running,
        rx.hstack(
            rx.spinner(size="1"),
            rx.text(rx.cond(message.preparing, "writing arguments", "running"), size="1"),
            align="center",
        ),
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
        rx.cond(
            message.running,
            # While the model writes the arguments, they grow here (the card stays open).
            rx.cond(message.preparing, rx.el.pre(message.args, class_name="tool-args")),
            rx.el.pre(message.content),
        ),
        rx.cond(
            message.truncated,
            rx.button(
                "Show the whole output",
                size="1",
                variant="ghost",
                on_click=ChatState.show_output(message.id, message.tool),
                aria_label="Show the whole output of " + message.tool,
            ),
        ),
        open=message.preparing,
        class_name="tool-card",
        data_testid="tool-card",
    )


def trace_timeline(message: MessageView) -> rx.Component:
    """A turn's timeline: model calls (with tokens) and tool calls, with durations."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(
                rx.icon("activity", size=14),
                rx.text("Trace", size="1"),
                rx.text(message.duration, size="1", color_scheme="gray"),
                align="center",
            ),
            aria_label="Show this turn's trace",
        ),
        rx.el.pre(message.content),
        class_name="tool-card trace",
        data_testid="trace",
    )


def user_bubble(message: MessageView) -> rx.Component:
    return rx.vstack(
        rx.cond(
            message.content != "",
            rx.box(safe_markdown(message.content), class_name="bubble user"),
        ),
        message_chips(message),
        rx.hstack(
            version_switch(message),
            copy_button(message.content, "Copy message", "copy-message"),
            rx.cond(
                ~LiveState.running,
                rx.button(
                    rx.icon("pencil", size=12),
                    "Edit",
                    size="1",
                    variant="ghost",
                    on_click=TurnState.open_edit(message.id, message.content),
                    aria_label="Edit this message and send it again",
                ),
            ),
            align="center",
            spacing="2",
        ),
        align="end",
        spacing="1",
        width="100%",
    )


def edit_dialog() -> rx.Component:
    return form_dialog(
        "Edit and resend",
        rx.text_area(
            name="text",
            default_value=TurnState.edit_text,
            aria_label="Edited message",
            rows="5",
            width="100%",
            enter_key_submit=True,
        ),
        description="This makes a new version of the turn; the earlier one stays.",
        error=TurnState.error,
        submit="Resend",
        on_submit=TurnState.resend,
        on_cancel=TurnState.close_edit,
        is_open=TurnState.edit_id != 0,
    )


def output_dialog() -> rx.Component:
    """A tool's whole output, fetched when its preview's button is pressed."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Output of " + ChatState.output_title),
            rx.el.pre(ChatState.output_text, class_name="full-output"),
            rx.hstack(
                rx.dialog.close(rx.button("Close", variant="soft")),
                justify="end",
                width="100%",
            ),
            max_width="min(1000px, 95vw)",
        ),
        open=ChatState.output_title != "",
        on_open_change=lambda _open: ChatState.close_output(),
    )


def assistant_bubble(message: MessageView) -> rx.Component:
    """The reply, with the reasoning before it collapsed above (a tool step may have only
    reasoning)."""
    return rx.vstack(
        rx.cond(message.reasoning != "", thinking_block(message.reasoning)),
        rx.cond(
            message.content != "",
            rx.fragment(
                rx.box(safe_markdown(message.content), class_name="bubble assistant"),
                copy_button(message.content, "Copy message", "copy-message"),
            ),
        ),
        align="start",
        spacing="1",
        width="100%",
    )


def message_bubble(message: MessageView) -> rx.Component:
    return rx.match(
        message.role,
        ("user", user_bubble(message)),
        ("assistant", assistant_bubble(message)),
        ("tool", tool_card(message)),
        (
            "error",
            rx.callout(
                message.content,
                icon="triangle_alert",
                color_scheme="red",
                role="alert",
                data_testid="turn-error",
            ),
        ),
        ("trace", trace_timeline(message)),
        rx.fragment(),
    )

"""The "< 2/3 >" switch under a user message whose turn has several versions."""

from __future__ import annotations

import reflex as rx

from compymac_rx.state.live_turn import LiveState
from compymac_rx.state.turns import TurnState
from compymac_rx.state.views import MessageView

# Single angle quotation marks, as chat apps show them (escaped: ruff flags the characters).
PREVIOUS, NEXT = "\u2039", "\u203a"


def _step(label: str, target: int, aria_label: str) -> rx.Component:
    return rx.button(
        label,
        size="1",
        variant="ghost",
        # While a turn runs its replies go after the version shown: no switching then.
        disabled=(target == 0) | LiveState.running,
        on_click=TurnState.show_version(target),
        aria_label=aria_label,
    )


def version_switch(message: MessageView) -> rx.Component:
    return rx.cond(
        message.version != "",
        rx.hstack(
            _step(PREVIOUS, message.prev_id, "Previous version of this turn"),
            rx.text(message.version, size="1", color_scheme="gray", data_testid="version-label"),
            _step(NEXT, message.next_id, "Next version of this turn"),
            align="center",
            spacing="1",
            data_testid="versions",
        ),
    )

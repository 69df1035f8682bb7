"""The keyboard shortcuts' help dialog (opened with `?`, or its button in the sidebar).

The keys themselves are handled in the browser (assets/shortcuts.js): they only press buttons
and move focus the page already has, so they need no handler of their own on the server.
"""

from __future__ import annotations

import reflex as rx

SHORTCUTS_BUTTON_ID = "shortcuts-button"
NEW_SESSION_BUTTON_ID = "new-session-button"

# (keys, what they do); the same list assets/shortcuts.js implements.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl + Shift + O", "New session"),
    ("Shift + Esc", "Focus the message box"),
    ("Ctrl + K  or  /", "Search sessions"),
    ("Esc", "Stop the running turn"),
    ("Alt + ↑  /  Alt + ↓", "Previous / next session"),
    ("Ctrl + Shift + S", "Show or hide the sessions list"),
    ("?", "This list"),
)


def _row(keys: str, action: str) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(keys, variant="outline")),
        rx.table.cell(action),
    )


def shortcuts_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(
                rx.icon("keyboard", size=14),
                id=SHORTCUTS_BUTTON_ID,
                variant="soft",
                size="1",
                aria_label="Keyboard shortcuts",
                title="Keyboard shortcuts (?)",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.dialog.description(
                "They do not fire while you type in a field, except Esc and the ones with Ctrl.",
                size="2",
                color_scheme="gray",
            ),
            rx.table.root(
                rx.table.body(*(_row(keys, action) for keys, action in SHORTCUTS)),
                size="1",
                width="100%",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Close", variant="soft")),
                justify="end",
                margin_top="12px",
            ),
            max_width="460px",
            data_testid="shortcuts-dialog",
        ),
    )

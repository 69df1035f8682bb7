"""The workspace page: sidebar, conversation, composer. Served at `/` and `/s/<id>`."""

from __future__ import annotations

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.attach import attach_button, attach_dialog, composer_chips
from compymac_rx.components.connection import disconnected
from compymac_rx.components.download import download_link
from compymac_rx.components.file_panel import file_panel
from compymac_rx.components.layout import (
    alert_line,
    centered_message,
    icon_action,
    loading_screen,
)
from compymac_rx.components.live_text import live_text
from compymac_rx.components.message import edit_dialog, message_bubble, output_dialog
from compymac_rx.components.model_params import session_params_button, session_params_dialog
from compymac_rx.components.sidebar import sidebar
from compymac_rx.components.thinking import live_thinking
from compymac_rx.state.chat import COMPOSER_ID, ChatState
from compymac_rx.state.files import FilesState
from compymac_rx.state.live_turn import RECENT_MAX, LiveState
from compymac_rx.state.sessions import SessionsState
from compymac_rx.state.turns import TurnState
from compymac_rx.state.views import MessageView


def _status_badge() -> rx.Component:
    return rx.match(
        LiveState.job_status,
        ("queued", rx.badge(rx.spinner(size="1"), LiveState.queue_label, color_scheme="gray")),
        ("running", rx.badge(rx.spinner(size="1"), "running", color_scheme="blue")),
        ("done", rx.badge("done", color_scheme="green")),
        ("failed", rx.badge("failed", color_scheme="red")),
        ("cancelled", rx.badge("stopped", color_scheme="orange")),
        rx.fragment(),
    )


def _menu_button() -> rx.Component:
    """Opens the sidebar on narrow screens (hidden by CSS on wide ones)."""
    return icon_action(
        "menu",
        "Open the sessions list",
        SessionsState.toggle_sidebar,
        icon_size=18,
        size="2",
        class_name="menu-toggle",
    )


def _export_menu() -> rx.Component:
    base = "/export/sessions/" + ChatState.current_id
    return rx.menu.root(
        rx.menu.trigger(icon_action("download", "Export this session")),
        rx.menu.content(
            # Plain links to the owner-checked download routes (attachments).
            rx.menu.item(download_link("Markdown", base + "/markdown"), as_child=True),
            rx.menu.item(download_link("JSON", base + "/json"), as_child=True),
        ),
    )


def _header() -> rx.Component:
    return rx.hstack(
        _menu_button(),
        # The title takes the room left; on a phone the controls wrap onto a second line.
        rx.heading(ChatState.title, size="4", truncate=True, flex="1 1 140px", min_width="0"),
        rx.select.root(
            rx.select.trigger(aria_label="Model for this session", max_width="220px"),
            rx.select.content(
                rx.foreach(ChatState.model_choices, lambda c: rx.select.item(c[1], value=c[0]))
            ),
            value=ChatState.model,
            on_change=TurnState.set_model,
            size="1",
        ),
        rx.cond(
            ~LiveState.running & ((ChatState.messages.length() + LiveState.recent_count) > 0),
            icon_action("refresh-cw", "Regenerate the last reply", TurnState.regenerate),
        ),
        session_params_button(),
        _export_menu(),
        icon_action("folder-open", "Show the workspace files", FilesState.toggle),
        rx.box(_status_badge(), role="status", aria_live="polite", data_testid="job-status"),
        padding="10px 16px",
        border_bottom="1px solid var(--gray-a5)",
        align="center",
        flex_wrap="wrap",
        width="100%",
    )


def _recent_slots() -> rx.Component:
    """LiveState's round-robin slots, shown oldest first: CSS `order` puts each in place."""
    slots = []
    for index in range(RECENT_MAX):
        message = getattr(LiveState, f"recent_{index}")
        slots.append(
            rx.vstack(
                message_bubble(message),
                display=rx.cond(message.role == "", "none", "flex"),
                order=(index + RECENT_MAX - LiveState.recent_head) % RECENT_MAX,
                spacing="3",
                width="100%",
            )
        )
    return rx.vstack(
        *slots,
        display=rx.cond(LiveState.recent_count == 0, "none", "flex"),
        spacing="3",
        width="100%",
    )


def _history_message(message: MessageView) -> rx.Component:
    # A search hit is marked; assets/search.js scrolls it into view once it is on the page.
    return rx.box(
        message_bubble(message),
        class_name=rx.cond(
            message.seq == ChatState.hit_seq, "history-item search-hit", "history-item"
        ),
        width="100%",
    )


def _conversation() -> rx.Component:
    return rx.auto_scroll(
        rx.vstack(
            rx.cond(
                ChatState.has_older,
                rx.button(
                    "Load older messages",
                    id="load-older",
                    variant="ghost",
                    size="1",
                    on_click=ChatState.load_older,
                    align_self="center",
                ),
            ),
            rx.cond(
                (ChatState.messages.length() + LiveState.recent_count) == 0,
                rx.center(
                    rx.text(
                        "Ask the agent something. Try `help`, `ls` or `run echo hello`.",
                        color_scheme="gray",
                    ),
                    padding="48px",
                    width="100%",
                ),
            ),
            rx.foreach(ChatState.messages, _history_message),
            _recent_slots(),
            rx.cond(LiveState.thinking, live_thinking()),
            rx.foreach(LiveState.tools, message_bubble),
            # A polite live region that stays on the page (one added with its text in it is
            # often not announced): screen readers read the reply as it streams in.
            rx.box(
                rx.cond(
                    LiveState.streaming,
                    rx.box(
                        live_text(),
                        class_name="bubble assistant",
                        data_testid="live-reply",
                    ),
                ),
                aria_live="polite",
                data_testid="live-region",
                display="flex",
                flex_direction="column",
                width="100%",
            ),
            spacing="3",
            padding="16px",
            width="100%",
            max_width="900px",
            margin="0 auto",
        ),
        flex="1",
        width="100%",
        data_testid="conversation",
    )


def _composer() -> rx.Component:
    return rx.form(
        rx.vstack(
            alert_line(ChatState.notice),
            composer_chips(),
            rx.hstack(
                attach_button(),
                rx.text_area(
                    id=COMPOSER_ID,
                    name="message",
                    placeholder="Message the agent (Enter to send, Shift+Enter for a new line)",
                    aria_label="Message",
                    enter_key_submit=True,
                    auto_focus=True,
                    # Nothing typed while the connection is down could be sent.
                    disabled=disconnected(),
                    flex="1",
                    rows="2",
                ),
                rx.cond(
                    LiveState.running,
                    rx.button(
                        rx.icon("square", size=14),
                        "Stop",
                        type="button",
                        color_scheme="red",
                        variant="soft",
                        on_click=ChatState.stop,
                        aria_label="Stop the running turn",
                    ),
                    rx.button(
                        rx.icon("send", size=14),
                        "Send",
                        type="submit",
                        aria_label="Send message",
                        disabled=disconnected(),
                    ),
                ),
                width="100%",
                align="end",
            ),
            width="100%",
            max_width="900px",
            margin="0 auto",
        ),
        on_submit=ChatState.send,
        reset_on_submit=False,
        class_name="composer",
        padding="12px 16px",
        border_top="1px solid var(--gray-a5)",
        width="100%",
    )


def _empty_home() -> rx.Component:
    return centered_message(
        "Your coding agent, in a private workspace",
        "6",
        "Each session has its own folder. The agent reads, writes and runs things there.",
        rx.button("Start a new session", size="3", on_click=SessionsState.new_session),
        spacing="4",
    )


def _not_found() -> rx.Component:
    return centered_message(
        rx.cond(SessionsState.deleted_open, "Session deleted", "Session not found"),
        "5",
        rx.cond(
            SessionsState.deleted_open,
            "This session was deleted in another tab or window.",
            "It does not exist, was deleted, or is not yours.",
        ),
        rx.link("Back to your sessions", href=routes.HOME),
        data_testid="not-found",
    )


def chat_page() -> rx.Component:
    main = rx.cond(
        ChatState.not_found,
        _not_found(),
        rx.cond(
            ChatState.current_id == "",
            _empty_home(),
            rx.fragment(_header(), _conversation(), _composer()),
        ),
    )
    return rx.cond(
        ChatState.user_email == "",
        loading_screen(),
        rx.box(
            sidebar(),
            rx.vstack(
                rx.cond(
                    ChatState.current_id == "",
                    rx.hstack(
                        _menu_button(),
                        padding="10px 16px",
                    ),
                ),
                main,
                class_name="main",
                spacing="0",
            ),
            rx.cond(ChatState.current_id != "", file_panel()),
            edit_dialog(),
            output_dialog(),
            rx.cond(ChatState.current_id != "", attach_dialog()),
            session_params_dialog(),
            # Clicks "Load older" when it scrolls into view (assets/load_older.js: a file,
            # because the CSP runs no inline script the build did not emit).
            rx.script(src="/load_older.js"),
            # Ctrl+K (or "/") focuses the search box; a search hit scrolls into view.
            rx.script(src="/search.js"),
            # The keyboard shortcuts (their list: the sidebar's keyboard button, or "?").
            rx.script(src="/shortcuts.js"),
            # A dialog opened from state gives focus back to what opened it when it closes.
            rx.script(src="/dialog_focus.js"),
            class_name="layout",
        ),
    )

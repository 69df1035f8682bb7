"""The workspace page: sidebar, conversation, composer. Served at `/` and `/s/<id>`."""

from __future__ import annotations

import reflex as rx

from compymac_rx.components.download import download_link
from compymac_rx.components.file_panel import file_panel
from compymac_rx.components.live_text import live_text
from compymac_rx.components.message import edit_dialog, message_bubble, output_dialog
from compymac_rx.components.sidebar import sidebar
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
    return rx.icon_button(
        rx.icon("menu", size=18),
        variant="ghost",
        class_name="menu-toggle",
        on_click=SessionsState.toggle_sidebar,
        aria_label="Open the sessions list",
    )


def _export_menu() -> rx.Component:
    base = "/export/sessions/" + ChatState.current_id
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("download", size=14),
                variant="ghost",
                size="1",
                aria_label="Export this session",
            ),
        ),
        rx.menu.content(
            # Plain links to the owner-checked download routes (attachments).
            rx.menu.item(download_link("Markdown", base + "/markdown"), as_child=True),
            rx.menu.item(download_link("JSON", base + "/json"), as_child=True),
        ),
    )


def _header() -> rx.Component:
    return rx.hstack(
        _menu_button(),
        rx.heading(ChatState.title, size="4", truncate=True),
        rx.spacer(),
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
            rx.icon_button(
                rx.icon("refresh-cw", size=14),
                variant="ghost",
                size="1",
                on_click=TurnState.regenerate,
                aria_label="Regenerate the last reply",
            ),
        ),
        _export_menu(),
        rx.icon_button(
            rx.icon("folder-open", size=14),
            variant="ghost",
            size="1",
            on_click=FilesState.toggle,
            aria_label="Show the workspace files",
        ),
        rx.box(_status_badge(), role="status", aria_live="polite", data_testid="job-status"),
        padding="10px 16px",
        border_bottom="1px solid var(--gray-a5)",
        align="center",
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
            rx.foreach(LiveState.tools, message_bubble),
            rx.cond(
                LiveState.streaming,
                rx.box(
                    live_text(),
                    class_name="bubble assistant",
                    data_testid="live-reply",
                ),
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
            rx.cond(
                ChatState.notice != "",
                rx.text(ChatState.notice, color_scheme="red", size="2", role="alert"),
            ),
            rx.hstack(
                rx.text_area(
                    id=COMPOSER_ID,
                    name="message",
                    placeholder="Message the agent (Enter to send, Shift+Enter for a new line)",
                    aria_label="Message",
                    enter_key_submit=True,
                    auto_focus=True,
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
                        rx.icon("send", size=14), "Send", type="submit", aria_label="Send message"
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
    return rx.center(
        rx.vstack(
            rx.heading("Your coding agent, in a private workspace", size="6"),
            rx.text(
                "Each session has its own folder. The agent reads, writes and runs things there.",
                color_scheme="gray",
            ),
            rx.button("Start a new session", size="3", on_click=SessionsState.new_session),
            align="center",
            spacing="4",
        ),
        flex="1",
    )


def _not_found() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Session not found", size="5"),
            rx.text("It does not exist, was deleted, or is not yours.", color_scheme="gray"),
            rx.link("Back to your sessions", href="/"),
            align="center",
        ),
        flex="1",
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
        rx.center(rx.spinner(size="3"), height="100vh", aria_label="Loading"),
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
            # Clicks "Load older" when it scrolls into view (assets/load_older.js: a file,
            # because the CSP runs no inline script the build did not emit).
            rx.script(src="/load_older.js"),
            # Ctrl+K (or "/") focuses the search box; a search hit scrolls into view.
            rx.script(src="/search.js"),
            class_name="layout",
        ),
    )

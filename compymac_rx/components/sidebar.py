"""The sessions sidebar, with its rename and delete dialogs."""

from __future__ import annotations

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.backend import backend_href
from compymac_rx.components.confirm import confirm_delete_dialog, form_dialog
from compymac_rx.components.layout import icon_action, title_bar
from compymac_rx.components.native_form import native_form
from compymac_rx.components.shortcuts import NEW_SESSION_BUTTON_ID, shortcuts_dialog
from compymac_rx.components.theme import theme_menu
from compymac_rx.state.search import SEARCH_BOX_ID, SearchState
from compymac_rx.state.sessions import SessionsState
from compymac_rx.state.views import SearchResultView, SessionItem, SnippetPart


def _row(item: SessionItem) -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.vstack(
                rx.text(item.title, size="2", weight="medium", truncate=True, width="100%"),
                rx.text(item.when, size="1", color_scheme="gray"),
                spacing="0",
                width="100%",
            ),
            href=routes.SESSION_PREFIX + item.id,
            underline="none",
            color="inherit",
            flex="1",
            min_width="0",
        ),
        rx.menu.root(
            rx.menu.trigger(icon_action("ellipsis", "Actions for " + item.title, icon_size=16)),
            rx.menu.content(
                rx.menu.item("Rename", on_click=SessionsState.start_rename(item.id, item.title)),
                rx.cond(
                    item.archived,
                    rx.menu.item("Unarchive", on_click=SessionsState.set_archived(item.id, False)),
                    rx.menu.item("Archive", on_click=SessionsState.set_archived(item.id, True)),
                ),
                rx.menu.separator(),
                rx.menu.item(
                    "Delete", color="red", on_click=SessionsState.ask_delete(item.id, item.title)
                ),
            ),
        ),
        class_name=rx.cond(
            item.id == SessionsState.current_id, "session-row active", "session-row"
        ),
        align="center",
        width="100%",
        data_testid="session-row",
        # Keyed by session, not position: when a change from another tab moves the rows, an
        # open menu stays with its own session.
        key=item.id,
    )


def _part(part: SnippetPart) -> rx.Component:
    # Text nodes only: a hit is a <mark> around text, never markup built from content.
    return rx.cond(part.hit, rx.el.mark(part.text), rx.fragment(part.text))


def _result(result: SearchResultView) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.text(result.title, size="2", weight="medium", truncate=True, width="100%"),
            rx.text(rx.foreach(result.parts, _part), size="1", class_name="search-snippet"),
            rx.text(result.when, size="1", color_scheme="gray"),
            spacing="1",
            width="100%",
        ),
        href=result.href,
        underline="none",
        color="inherit",
        class_name="session-row search-result",
        width="100%",
        data_testid="search-result",
    )


def _search_box() -> rx.Component:
    return rx.vstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            id=SEARCH_BOX_ID,
            value=SearchState.query,
            on_change=SearchState.set_query,
            debounce_timeout=250,
            placeholder="Search sessions (Ctrl+K)",
            aria_label="Search your sessions",
            type="search",
            width="100%",
        ),
        rx.cond(
            SearchState.query != "",
            rx.hstack(
                rx.text(
                    rx.checkbox(
                        checked=SearchState.include_archived,
                        on_change=SearchState.set_include_archived,
                        aria_label="Include archived sessions",
                    ),
                    " Include archived",
                    as_="label",
                    size="1",
                ),
                rx.spacer(),
                rx.button("Clear", variant="ghost", size="1", on_click=SearchState.clear),
                width="100%",
                align="center",
            ),
        ),
        spacing="1",
        width="100%",
    )


def _search_results() -> rx.Component:
    return rx.vstack(
        rx.foreach(SearchState.results, _result),
        rx.cond(
            SearchState.searched & (SearchState.results.length() == 0),
            rx.text("Nothing found.", size="2", color_scheme="gray"),
        ),
        spacing="1",
        width="100%",
        data_testid="search-results",
    )


def _rename_dialog() -> rx.Component:
    return form_dialog(
        "Rename session",
        rx.input(
            value=SessionsState.rename_title,
            on_change=SessionsState.set_rename_title,
            aria_label="Session title",
            auto_focus=True,
            width="100%",
        ),
        error=SessionsState.notice,
        submit="Save",
        on_submit=lambda _form: SessionsState.save_rename(),
        on_cancel=SessionsState.cancel_rename,
        is_open=SessionsState.rename_id != "",
    )


def _delete_dialog() -> rx.Component:
    return confirm_delete_dialog(
        SessionsState,
        title="Delete this session?",
        description=rx.text(
            "“",
            SessionsState.delete_label,
            "” — its messages and its workspace folder will be deleted for good.",
        ),
    )


def _sessions_list() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(
                rx.cond(SessionsState.show_archived, "Archived", "Sessions"),
                size="1",
                weight="bold",
                color_scheme="gray",
            ),
            rx.spacer(),
            rx.button(
                rx.cond(SessionsState.show_archived, "Show active", "Show archived"),
                variant="ghost",
                size="1",
                on_click=SessionsState.toggle_archived_view,
            ),
            width="100%",
            align="center",
        ),
        rx.foreach(SessionsState.sessions, _row),
        rx.cond(
            SessionsState.sessions.length() == 0,
            rx.text(
                rx.cond(
                    SessionsState.show_archived,
                    "No archived sessions.",
                    "No sessions yet. Start one with “New session”.",
                ),
                size="2",
                color_scheme="gray",
            ),
        ),
        spacing="1",
        width="100%",
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        title_bar(
            "CompyMac RX",
            "4",
            icon_action(
                "x",
                "Close the sessions list",
                SessionsState.toggle_sidebar,
                icon_size=16,
                size="2",
                class_name="menu-toggle",
            ),
            align="center",
        ),
        rx.button(
            rx.icon("plus", size=16),
            "New session",
            on_click=SessionsState.new_session,
            width="100%",
            id=NEW_SESSION_BUTTON_ID,
        ),
        _search_box(),
        rx.scroll_area(
            rx.cond(SearchState.query != "", _search_results(), _sessions_list()),
            flex="1",
            type="auto",
            scrollbars="vertical",
        ),
        # The email on a line of its own (an address is long), the controls below it.
        rx.link(
            rx.text(SessionsState.user_email, size="1", truncate=True),
            href=routes.ACCOUNT,
            title="Account",
            width="100%",
            color_scheme="gray",
            high_contrast=True,
        ),
        rx.hstack(
            rx.cond(SessionsState.is_admin, rx.link("Users", href=routes.ADMIN, size="1")),
            rx.spacer(),
            shortcuts_dialog(),
            theme_menu(),
            # A link with an icon (a button inside a link is two controls in one).
            rx.link(
                rx.icon("settings", size=16, aria_hidden="true"),
                href=routes.SETTINGS,
                aria_label="Settings: API keys and models",
                class_name="icon-link",
            ),
            native_form(
                rx.button("Sign out", variant="soft", size="1", type="submit"),
                action=backend_href(routes.AUTH_LOGOUT),
                method="post",
            ),
            width="100%",
            align="center",
        ),
        _rename_dialog(),
        _delete_dialog(),
        class_name=rx.cond(SessionsState.sidebar_open, "sidebar open", "sidebar"),
        padding="12px",
        spacing="3",
        height="100vh",
    )

"""Stateless pieces the pages share: labelled inputs, sections, tables, notes, page frames.

Each takes the state's vars as arguments, so one piece serves every page that shows the
same thing the same way (and the labels, roles and test ids stay where the tests look).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import reflex as rx

from compymac_rx import routes
from compymac_rx.components.theme import theme_menu


def labeled_input(
    label: str,
    name: str,
    *,
    kind: str = "text",
    autocomplete: str = "off",
    field_id: str = "",
    required: bool = False,
    label_weight: str | None = None,
) -> rx.Component:
    """A label above a full-width input; the label names the input for screen readers."""
    field_id = field_id or name
    label_style = {"font_weight": label_weight} if label_weight else {}
    extra = {"required": True} if required else {}
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="14px", **label_style),
        rx.input(
            id=field_id, name=name, type=kind, auto_complete=autocomplete, width="100%", **extra
        ),
        spacing="1",
        width="100%",
    )


def section(
    title: Any, *children: rx.Component, size: str = "4", intro: str = "", **props: Any
) -> rx.Component:
    """A heading and what it heads, full width; `intro` is a grey line of explanation."""
    props.setdefault("spacing", "2")
    lead = [intro_text(intro)] if intro else []
    return rx.vstack(rx.heading(title, size=size), *lead, *children, width="100%", **props)


def intro_text(text: str) -> rx.Component:
    return rx.text(text, size="2", color_scheme="gray")


def danger_button(label: str, on_click: Any, aria_label: Any) -> rx.Component:
    """The small red button of a list row (sign out there, delete, revoke)."""
    return rx.button(
        label,
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=on_click,
        aria_label=aria_label,
    )


def data_table(
    columns: Iterable[str], rows: Any, render_row: Callable[[Any], rx.Component], **props: Any
) -> rx.Component:
    """A full-width table: one header row, one `render_row` per item of the `rows` Var."""
    return rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(c) for c in columns))),
        rx.table.body(rx.foreach(rows, render_row)),
        width="100%",
        **props,
    )


def result_callout(text: Any, ok: Any, test_id: str) -> rx.Component:
    """The outcome of the last action, green or red, announced politely; hidden when empty."""
    return rx.cond(
        text != "",
        rx.callout(
            text,
            color_scheme=rx.cond(ok, "green", "red"),
            role="status",
            data_testid=test_id,
            width="100%",
        ),
    )


def result_line(text: Any, ok: Any, test_id: str, size: str = "2") -> rx.Component:
    """The same as a line of text, for a form's own outcome."""
    return rx.cond(
        text != "",
        rx.text(
            text,
            size=size,
            color_scheme=rx.cond(ok, "green", "red"),
            role="status",
            data_testid=test_id,
        ),
    )


def alert_line(text: Any) -> rx.Component:
    """What went wrong with the form beside it, in red; hidden when empty."""
    return rx.cond(text != "", rx.text(text, color_scheme="red", size="2", role="alert"))


def loading_screen() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh", aria_label="Loading")


def signed_in_page(
    email: Any, title: str, *body: rx.Component, max_width: str, spacing: str
) -> rx.Component:
    """A page of one's own (account, settings): a spinner until the user is known."""
    return rx.cond(
        email == "",
        loading_screen(),
        rx.vstack(
            rx.hstack(
                rx.link("← Back to sessions", href=routes.HOME),
                rx.spacer(),
                rx.text(email, size="2", color_scheme="gray"),
                theme_menu(),
                align="center",
                width="100%",
            ),
            rx.heading(title, size="6"),
            *body,
            # A dialog opened from state gives focus back to what opened it when it closes.
            rx.script(src="/dialog_focus.js"),
            max_width=max_width,
            margin="0 auto",
            padding="24px",
            spacing=spacing,
            width="100%",
        ),
    )


def icon_action(icon: str, label: str, on_click: Any = None, **props: Any) -> rx.Component:
    """A small ghost icon button; `label` is what a screen reader says."""
    icon_size = props.pop("icon_size", 14)
    props.setdefault("size", "1")
    if on_click is not None:
        props["on_click"] = on_click
    return rx.icon_button(rx.icon(icon, size=icon_size), variant="ghost", aria_label=label, **props)


def pager(
    labels: tuple[str, str],
    page: Any,
    has_next: Any,
    on_turn: tuple[Any, Any],
    *,
    spacing: str = "3",
    test_id: str | None = None,
) -> rx.Component:
    """Back and forward around "Page n" (pages count from 0 in state, from 1 on screen)."""
    back, forward = labels
    label_props = {"data_testid": test_id} if test_id else {}
    return rx.hstack(
        rx.button(back, variant="soft", disabled=page == 0, on_click=on_turn[0]),
        rx.text("Page ", page + 1, size="2", **label_props),
        rx.button(forward, variant="soft", disabled=~has_next, on_click=on_turn[1]),
        align="center",
        spacing=spacing,
    )


def secret_form(*children: rx.Component, on_submit: Any) -> rx.Component:
    """A form of passwords or codes: the browser empties it after each submit."""
    return rx.form(
        rx.vstack(*children, spacing="2", width="100%"),
        on_submit=on_submit,
        reset_on_submit=True,
        width="100%",
    )


def title_bar(title: str, size: str, *actions: rx.Component, **props: Any) -> rx.Component:
    """A heading on the left, its actions (links, a close button) on the right."""
    return rx.hstack(rx.heading(title, size=size), rx.spacer(), *actions, width="100%", **props)


def centered_message(
    title: str | rx.Var[str], size: str, text: str | rx.Var[str], action: rx.Component, **props: Any
) -> rx.Component:
    """A whole pane saying one thing (nothing here yet, nothing found) and what to do."""
    spacing = {"spacing": props.pop("spacing")} if "spacing" in props else {}
    # The padding keeps the text off a phone's screen edge; centred lines read as one block.
    props.setdefault("padding", "24px")
    props.setdefault("data_testid", "empty-state")
    return rx.center(
        rx.vstack(
            rx.heading(title, size=size, text_align="center"),
            rx.text(text, color_scheme="gray", text_align="center"),
            action,
            align="center",
            **spacing,
        ),
        flex="1",
        **props,
    )

"""The admin page's usage dashboard: totals, charts (Reflex's recharts) and top users."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx.state.usage import UsageState
from compymac_rx.usage.service import RANGES


def _figure(label: str, key: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(UsageState.summary[key], size="5", data_testid=f"usage-{key}"),
            spacing="1",
        ),
    )


def _per_day() -> rx.Component:
    return rx.recharts.composed_chart(
        rx.recharts.bar(data_key="turns", name="Turns", fill=rx.color("accent", 9)),
        rx.recharts.bar(data_key="failed", name="Failed turns", fill=rx.color("red", 9)),
        rx.recharts.bar(data_key="tools", name="Tool runs", fill=rx.color("gray", 8)),
        rx.recharts.line(data_key="active", name="Active users", stroke=rx.color("green", 9)),
        rx.recharts.x_axis(data_key="day"),
        rx.recharts.y_axis(),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=UsageState.daily,
        width="100%",
        height=260,
    )


def _per_model() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.bar(data_key="prompt", name="Prompt tokens", stack_id="t"),
        rx.recharts.bar(
            data_key="completion", name="Completion tokens", stack_id="t", fill=rx.color("iris", 7)
        ),
        rx.recharts.x_axis(data_key="model"),
        rx.recharts.y_axis(),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=UsageState.models,
        width="100%",
        height=220,
    )


def _table(
    title: str, rows: Any, columns: tuple[tuple[str, str], ...], test_id: str
) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="3"),
        rx.table.root(
            rx.table.header(
                rx.table.row(*(rx.table.column_header_cell(label) for label, _ in columns))
            ),
            rx.table.body(
                rx.foreach(
                    rows,
                    lambda row: rx.table.row(
                        *(rx.table.cell(row[key]) for _, key in columns), data_testid=test_id
                    ),
                )
            ),
            width="100%",
        ),
        width="100%",
        spacing="2",
    )


def usage_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Usage", size="5"),
            rx.el.select(
                *(rx.el.option(f"Last {d} day(s)", value=str(d)) for d in RANGES),
                value=UsageState.days,
                on_change=UsageState.set_range,
                aria_label="Usage range",
            ),
            spacing="3",
            align="center",
        ),
        rx.hstack(
            _figure("Active users", "active_users"),
            _figure("Turns", "turns"),
            _figure("Failed turns", "failed_turns"),
            _figure("Tool runs", "tool_runs"),
            spacing="3",
            wrap="wrap",
        ),
        _per_day(),
        rx.heading("Model tokens per model", size="3"),
        _per_model(),
        rx.grid(
            _table(
                "Model tokens per user",
                UsageState.top_users,
                (("User", "email"), ("Turns", "turns"), ("Tokens", "tokens")),
                "usage-user-row",
            ),
            _table(
                "Storage per user (message text, all time)",
                UsageState.storage,
                (("User", "email"), ("Messages", "messages"), ("Size", "size")),
                "usage-storage-row",
            ),
            columns="2",
            spacing="4",
            width="100%",
        ),
        width="100%",
        spacing="3",
    )

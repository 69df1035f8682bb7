"""The admin page's usage dashboard: totals, charts (Reflex's recharts) and top users."""

from __future__ import annotations

from typing import Any

import reflex as rx

from compymac_rx.components.layout import data_table, section
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


def _chart(chart: Any, x_key: str, data: Any, height: int, *series: Any) -> rx.Component:
    """A recharts chart of `series` over `x_key`, with axes, legend and tooltip."""
    return chart(
        *series,
        rx.recharts.x_axis(data_key=x_key),
        rx.recharts.y_axis(),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=data,
        width="100%",
        height=height,
    )


def _per_day() -> rx.Component:
    return _chart(
        rx.recharts.composed_chart,
        "day",
        UsageState.daily,
        260,
        rx.recharts.bar(data_key="turns", name="Turns", fill=rx.color("accent", 9)),
        rx.recharts.bar(data_key="failed_turns", name="Failed turns", fill=rx.color("red", 9)),
        rx.recharts.bar(data_key="tool_runs", name="Tool runs", fill=rx.color("gray", 8)),
        rx.recharts.line(data_key="active_users", name="Active users", stroke=rx.color("green", 9)),
    )


def _per_model() -> rx.Component:
    tokens = ("prompt_tokens", "Prompt tokens", None), ("completion_tokens", "Completion tokens", 7)
    return _chart(
        rx.recharts.bar_chart,
        "model",
        UsageState.models,
        220,
        *(
            rx.recharts.bar(
                data_key=key,
                name=name,
                stack_id="t",
                **({"fill": rx.color("iris", shade)} if shade else {}),
            )
            for key, name, shade in tokens
        ),
    )


def _table(
    title: str, rows: Any, columns: tuple[tuple[str, str], ...], test_id: str
) -> rx.Component:
    return section(
        title,
        data_table(
            (label for label, _ in columns),
            rows,
            lambda row: rx.table.row(
                *(rx.table.cell(row[key]) for _, key in columns), data_testid=test_id
            ),
        ),
        size="3",
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

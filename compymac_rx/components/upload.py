"""A drop zone with the chosen files' names and the button that sends them."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.components.component import BaseComponent, Component
from reflex_components_core.el.elements.forms import Input  # type: ignore[import-untyped]


def _label_file_inputs(component: BaseComponent, label: str) -> None:
    """Name the drop zone's hidden file input: rx.upload makes it with no way to label it,
    and a screen reader can still reach it."""
    if isinstance(component, Input):
        component.custom_attrs["aria-label"] = label
    if isinstance(component, Component):
        for child in component.children:
            _label_file_inputs(child, label)


def upload_picker(
    upload_id: str,
    prompt: str,
    *,
    send: tuple[str, str],
    on_upload: Any,
    zone_label: str,
    compact: bool = False,
    accept: dict[str, list[str]] | None = None,
    after: rx.Component | None = None,
) -> rx.Component:
    """`send` is the button's text and aria-label; `on_upload` takes the upload files.

    The selection is cleared here, in the browser: cleared from the server (a returned
    `rx.clear_selected_files`) it would be a string the page must eval(), which the CSP
    forbids. The upload already holds the files.
    """
    size = "1" if compact else "2"
    zone_props: dict[str, Any] = {"accept": accept} if accept else {}
    button_props: dict[str, Any] = {"size": "1"} if compact else {}
    zone = rx.upload(
        rx.text(prompt, size=size),
        id=upload_id,
        multiple=True,
        border="1px dashed var(--gray-a7)",
        padding="8px" if compact else "12px",
        width="100%",
        aria_label=zone_label,
        **zone_props,
    )
    _label_file_inputs(zone, zone_label)
    return rx.fragment(
        zone,
        rx.hstack(
            rx.foreach(rx.selected_files(upload_id), lambda f: rx.text(f, size="1")),
            rx.button(
                send[0],
                on_click=[
                    on_upload(rx.upload_files(upload_id=upload_id)),
                    rx.clear_selected_files(upload_id),
                ],
                aria_label=send[1],
                **button_props,
            ),
            *([after] if after is not None else []),
            align="center",
            wrap="wrap",
        ),
    )

"""Copy buttons: a message's text, a code block's code. The copy happens in the browser."""

from __future__ import annotations

from typing import Any

import reflex as rx


class CopyButton(rx.Component):
    library = "$/public" + rx.asset("copy_button.jsx", shared=True)
    tag = "CopyButton"

    text: rx.Var[str]
    label: rx.Var[str]
    test_id: rx.Var[str]


def copy_button(text: Any, label: str, test_id: str = "copy") -> rx.Component:
    """`label` names the button for screen readers ("Copy message", "Copy code")."""
    return CopyButton.create(text=text, label=label, test_id=test_id)

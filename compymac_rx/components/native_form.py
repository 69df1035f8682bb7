"""A plain HTML form that really posts.

`rx.el.form` always prevents the default submit (Reflex handles forms over the WebSocket). The
auth forms must be real POSTs: the HTTP response is what sets the HttpOnly session cookie.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML  # type: ignore[import-untyped]


class NativeForm(BaseHTML):  # type: ignore[misc]  # the package ships no type marker
    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


native_form = NativeForm.create

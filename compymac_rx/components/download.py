"""A link that downloads: a plain <a download>, not Reflex's client-side router link
(which would try to render the download route as a page)."""

from __future__ import annotations

from typing import Any

from reflex_base.components.component import Component
from reflex_base.vars.base import Var
from reflex_components_core.el.elements.inline import A  # type: ignore[import-untyped]


def download_link(label: str, href: str | Var[str], **props: Any) -> Component:
    return A.create(label, href=href, download="", **props)

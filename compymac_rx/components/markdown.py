"""Markdown for untrusted text (messages, model and tool output): text, never HTML.

`rx.markdown` turns on rehype-raw by default, which makes any HTML in the text live DOM
(an `<iframe srcdoc>` ran script in our origin). Here no raw-HTML plugin is loaded, so
react-markdown shows HTML in the source as literal text; every URL the markdown produces goes
through one `urlTransform`: links only to http(s) and mailto, images only from our own origin
or `data:image/`. The check runs on the URL as the browser parses it (`new URL`), so
`java\tscript:` or `//evil.example` cannot slip past a string test. Math (KaTeX) is left off:
it is more parser surface, and `$` is common in shell output.

Fenced code blocks get a header (the fence's language, a copy button) above Reflex's own
highlighter (react-syntax-highlighter, which builds React elements from tokens: no HTML
string), in a light or dark palette with the colour mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex_base.components.component import Component, field
from reflex_base.vars.base import Var
from reflex_components_code.code import CodeBlock  # type: ignore[import-untyped]
from reflex_components_core.el.elements.inline import A  # type: ignore[import-untyped]
from reflex_components_core.el.elements.media import Img  # type: ignore[import-untyped]
from reflex_components_markdown.markdown import Markdown  # type: ignore[import-untyped]

from compymac_rx.components.copy import copy_button

# react-markdown calls this for every URL attribute (href, src, ...) of the elements it makes.
# Returning undefined drops the attribute.
URL_TRANSFORM_JS = """((url, key) => {
  if (typeof window === "undefined") return undefined;
  let parsed;
  try { parsed = new URL(url, window.location.href); } catch (e) { return undefined; }
  if (key === "src") {
    const own = parsed.origin === window.location.origin;
    const image = parsed.protocol === "data:" && /^data:image\\//i.test(parsed.href);
    return own || image ? parsed.href : undefined;
  }
  return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : undefined;
})"""


class _TextOnlyMarkdown(Markdown):  # type: ignore[misc]  # Markdown is untyped (Any)
    """react-markdown with the props Reflex's wrapper does not expose."""

    url_transform: Var[Any] = field(doc="Rewrites or drops each URL in the rendered output.")
    skip_html: Var[bool] = field(doc="Drop HTML in the source instead of showing it as text.")


def _link(children: object, **props: Any) -> Component:
    # A plain <a> (rx.el.a is a client-side router link). The href arrives in the spread
    # props, already checked by URL_TRANSFORM_JS.
    return A.create(children, rel="noopener noreferrer", target="_blank", **props)


def _image(*_children: object, **props: Any) -> Component:
    return Img.create(referrer_policy="no-referrer", loading="lazy", max_width="100%", **props)


# The variable Reflex's code-block function declares for the fence's language.
_LANGUAGE: Var[str] = Var(_js_expr="_language", _var_type=str)


def _code_block(code: Any, **props: Any) -> Component:
    # Reflex's markdown passes the fence's language (from `language-…`, "" when none) as a
    # prop; it also calls this once with the code alone, to collect the imports.
    language = props.pop("language", _LANGUAGE)
    return rx.box(
        rx.hstack(
            rx.text(
                rx.cond(language != "", language, "text"),
                size="1",
                class_name="code-language",
                data_testid="code-language",
            ),
            copy_button(code, "Copy code", "copy-code"),
            align="center",
            justify="between",
            width="100%",
            class_name="code-head",
        ),
        CodeBlock.create(
            code,
            language=language,
            # Coldark's palettes keep every token at WCAG AA contrast (one-light's do not).
            theme=rx.color_mode_cond(
                light=rx.code_block.themes.coldark_cold, dark=rx.code_block.themes.coldark_dark
            ),
            wrap_long_lines=True,
            margin="0",
            **props,
        ),
        class_name="code-block",
        data_testid="code-block",
    )


def safe_markdown(text: str | Var[str], **props: Any) -> Component:
    """Render `text` as markdown with no HTML and checked URLs; props style the wrapper."""
    components: dict[str, Callable[..., Component]] = {
        "a": _link,
        "img": _image,
        "pre": _code_block,
    }
    inner = _TextOnlyMarkdown.create(
        text,
        component_map=components,
        remark_plugins=[rx.markdown.plugin.gfm],
        rehype_plugins=[],
        url_transform=Var(_js_expr=URL_TRANSFORM_JS),
        skip_html=False,
    )
    return rx.box(inner, **props) if props else inner

"""The streamed reply: text arrives as appended pieces and is accumulated in the browser."""

from __future__ import annotations

import reflex as rx

from compymac_rx.state.live_turn import LiveState


class LiveText(rx.Component):
    library = "$/public" + rx.asset("live_text.jsx", shared=True)
    tag = "LiveText"
    # react-markdown and remark-gfm come with Reflex's own markdown component.

    stream_key: rx.Var[str]
    base: rx.Var[str]
    chunk: rx.Var[str]
    index: rx.Var[int]


def live_text() -> rx.Component:
    return LiveText.create(
        stream_key=LiveState.stream_key,
        base=LiveState.stream_base,
        chunk=LiveState.stream_chunk,
        index=LiveState.stream_index,
    )

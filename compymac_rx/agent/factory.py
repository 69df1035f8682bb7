"""Picks the model backend from settings."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from compymac_rx.agent.builtin import BuiltinBackend
from compymac_rx.agent.types import ChatItem, ModelBackend, ModelEvent, TextDelta, ToolSpec
from compymac_rx.settings import get_settings


class PacedBackend:
    """Spaces out text deltas so an instant offline reply still reads as a stream."""

    def __init__(self, inner: ModelBackend, *, delay_seconds: float) -> None:
        self._inner = inner
        self._delay = delay_seconds

    def stream(
        self, conversation: Sequence[ChatItem], tools: Sequence[ToolSpec]
    ) -> Iterator[ModelEvent]:
        for event in self._inner.stream(conversation, tools):
            if isinstance(event, TextDelta) and self._delay:
                time.sleep(self._delay)
            yield event


def get_model_backend() -> ModelBackend:
    settings = get_settings()
    return PacedBackend(BuiltinBackend(), delay_seconds=settings.builtin_stream_delay_ms / 1000)

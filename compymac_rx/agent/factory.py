"""The offline model backend of the embedded default, paced for demos when asked.

Which model a turn uses (the builtin agent, the server's model or a user's key) is the keys
package's business: keys/choice.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from compymac_rx.agent.builtin import BuiltinBackend
from compymac_rx.agent.types import ChatItem, ModelBackend, ModelEvent, TextDelta, ToolSpec
from compymac_rx.settings import get_settings


class PacedBackend:
    """Spaces out text deltas so an instant offline reply looks typed (BUILTIN_STREAM_DELAY_MS,
    for demos): it sleeps on the job's worker between deltas, so it is off by default."""

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
    """The builtin agent (offline, deterministic); paced only when a delay is set."""
    delay_ms = get_settings().builtin_stream_delay_ms
    if delay_ms <= 0:
        return BuiltinBackend()
    return PacedBackend(BuiltinBackend(), delay_seconds=delay_ms / 1000)

"""The outcome line of a page's forms, for states whose forms hold passwords or codes."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec


class FormNote(rx.State, mixin=True):
    note: str = ""
    note_ok: bool = True

    def _secret_fields(self) -> tuple[str, ...]:
        """The ids of the inputs emptied after every submit."""
        return ()

    def _say(self, text: str, ok: bool) -> list[EventSpec]:
        self.note, self.note_ok = text, ok
        # Password and code fields never keep a value after a submit, whatever happened.
        return [rx.set_value(name, "") for name in self._secret_fields()]

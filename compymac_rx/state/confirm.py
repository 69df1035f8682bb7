"""One deletion waiting for the user's yes: ask, cancel, confirm.

The sessions sidebar, the file panel and the API keys each ask before deleting. The states
share this mixin; each keeps its own typed `ask_delete` (what the browser may name differs:
a session id, a workspace path, a provider) and says in `_delete` what deleting means.
"""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.state.guard import signed_in


class ConfirmDelete(rx.State, mixin=True):
    # What the dialog asks about ("" while it is closed), and how it is named to the user.
    delete_target: str = ""
    delete_label: str = ""

    def _ask_delete(self, target: str, label: str = "") -> None:
        self.delete_target, self.delete_label = target, label

    async def _delete(self, user: CurrentUser, target: str) -> EventSpec | None:
        raise NotImplementedError

    @rx.event
    def cancel_delete(self) -> None:
        self.delete_target = ""

    @rx.event
    @signed_in
    async def confirm_delete(self, user: CurrentUser) -> EventSpec | None:
        target, self.delete_target = self.delete_target, ""
        if not target:  # only a forged frame confirms with nothing asked
            return None
        return await self._delete(user, target)

"""The files chosen to go with the next message: the composer's picker and its chips.

Chosen paths are only a request: chats.service.send_turn checks each one beneath the
session's workspace when the message is sent.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.files import service as files
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings
from compymac_rx.state.auth import AuthState
from compymac_rx.state.files import FilesState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import WorkspacePath
from compymac_rx.state.uploads import save_uploads
from compymac_rx.state.views import attachment_label

ATTACH_UPLOAD_ID = "attach-upload"


@dataclasses.dataclass
class AttachItem:
    """A workspace file in the picker, or a chosen one (a chip above the composer)."""

    path: str
    label: str
    chosen: bool = False


class AttachState(AuthState):
    picker_open: bool = False
    choices: rx.Field[list[AttachItem]] = rx.field(default_factory=list)
    chosen: rx.Field[list[AttachItem]] = rx.field(default_factory=list)
    notice: str = ""
    _session_id: str = ""

    def _reset(self, session_id: str) -> None:
        """A session was opened: what was chosen for another one is dropped."""
        if session_id != self._session_id:
            self._session_id = session_id
            self.picker_open, self.choices, self.chosen, self.notice = False, [], [], ""

    def _paths(self) -> list[str]:
        return [item.path for item in self.chosen]

    def _sent(self) -> None:
        if self.chosen:
            self.chosen = []
        if self.notice:
            self.notice = ""

    def _mark(self) -> None:
        paths = set(self._paths())
        self.choices = [dataclasses.replace(c, chosen=c.path in paths) for c in self.choices]

    async def _list(self, user_id: str) -> None:
        try:
            entries = await off_loop(files.list_tree, user_id, self._session_id)
        except files.FileError as error:
            self.notice, entries = str(error), []
        self.choices = [
            AttachItem(e.path, attachment_label(e.path, e.size)) for e in entries if not e.is_dir
        ]
        self._mark()

    def _add(self, item: AttachItem) -> bool:
        limit = get_settings().attachments_per_message
        if item.path in self._paths():
            return True
        if len(self.chosen) >= limit:
            self.notice = f"Too many attachments: a message can carry at most {limit} files."
            return False
        self.chosen = [*self.chosen, dataclasses.replace(item, chosen=True)]
        return True

    @rx.event
    @signed_in
    async def open_picker(self, user: CurrentUser) -> None:
        self.picker_open, self.notice = True, ""
        await self._list(user.id)

    @rx.event
    def close_picker(self) -> None:
        self.picker_open = False

    @rx.event
    def toggle(self, path: WorkspacePath) -> None:
        """Choose a listed file, or un-choose it."""
        if path in self._paths():
            self._remove(path)
            return
        found = next((c for c in self.choices if c.path == path), None)
        if found is not None and self._add(found):
            self.notice = ""
        self._mark()

    @rx.event
    def remove(self, path: WorkspacePath) -> None:
        self._remove(path)

    def _remove(self, path: str) -> None:
        self.chosen = [c for c in self.chosen if c.path != path]
        self.notice = ""
        self._mark()

    @rx.event
    @signed_in
    async def upload(self, user: CurrentUser, uploads: list[rx.UploadFile]) -> None:
        """New files into the workspace (as the file panel saves them), then chosen."""
        result = await save_uploads(user.id, self._session_id, uploads)
        if result.error:
            self.notice = result.error
        saved = result.paths
        await self._list(user.id)
        for path in saved:
            found = next((c for c in self.choices if c.path == path), None)
            if found is None or not self._add(found):
                break
        self._mark()
        await (await self.get_state(FilesState))._refresh(user.id)

"""The workspace file panel beside the chat: tree, preview, upload, delete."""

from __future__ import annotations

import dataclasses

import reflex as rx

from compymac_rx import routes
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.files import service as files
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings
from compymac_rx.state.auth import AuthState
from compymac_rx.state.confirm import ConfirmDelete
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import WorkspacePath
from compymac_rx.state.uploads import save_uploads

UPLOAD_ID = "workspace-upload"


@dataclasses.dataclass
class FileView:
    path: str
    name: str
    is_dir: bool
    size: str
    indent: str


def _view(entry: files.FileEntry) -> FileView:
    size = "" if entry.is_dir else f"{entry.size:,} B"
    return FileView(entry.path, entry.name, entry.is_dir, size, f"{entry.depth * 14}px")


class FilesState(ConfirmDelete, AuthState):
    panel_open: bool = False
    entries: rx.Field[list[FileView]] = rx.field(default_factory=list)
    selected: str = ""
    preview_kind: str = ""
    preview_text: str = ""
    preview_language: str = "text"
    preview_url: str = ""
    download_url: str = ""
    notice: str = ""
    _session_id: str = ""

    @rx.var
    def upload_limit(self) -> str:
        return f"{get_settings().upload_max_bytes // 1_000_000} MB"

    def _show(self, *, session_id: str, entries: list[files.FileEntry]) -> None:
        """The tree of the session that is open ("" for none)."""
        if session_id != self._session_id:
            self.selected, self.preview_kind, self.notice = "", "", ""
        self._session_id = session_id
        views = [_view(e) for e in entries]
        if views != self.entries:
            self.entries = views

    async def _refresh(self, user_id: str) -> None:
        """After a turn's tool ran or the user changed something: read the tree again."""
        if self._session_id:
            entries = await off_loop(files.list_tree, user_id, self._session_id)
            self._show(session_id=self._session_id, entries=entries)

    @rx.event
    def toggle(self) -> None:
        self.panel_open = not self.panel_open

    @rx.event
    @signed_in
    async def select(self, user: CurrentUser, path: WorkspacePath) -> None:
        try:
            found = await off_loop(files.preview, user.id, self._session_id, path)
        except files.FileError as error:
            self.notice = str(error)
            return
        self.selected, self.preview_kind, self.notice = path, found.kind, ""
        self.preview_text, self.preview_language = found.text, found.language or "text"
        self.preview_url = routes.file_url(self._session_id, path, inline=True)
        self.download_url = routes.file_url(self._session_id, path)

    @rx.event
    def ask_delete(self, path: WorkspacePath) -> None:
        self._ask_delete(path)

    async def _delete(self, user: CurrentUser, target: str) -> None:
        try:
            await off_loop(files.delete_path, user.id, self._session_id, target)
        except files.FileError as error:
            self.notice = str(error)
        if self.selected == target:
            self.selected, self.preview_kind = "", ""
        await self._refresh(user.id)

    @rx.event
    @signed_in
    async def upload(self, user: CurrentUser, uploads: list[rx.UploadFile]) -> None:
        saved = await save_uploads(user.id, self._session_id, uploads)
        if saved.error:
            self.notice = saved.error
        else:
            names = ", ".join(saved.paths)
            self.notice = f"Uploaded {names}." if saved.paths else "Choose a file first."
        # The selection is cleared by the button itself (components/upload.py): a
        # returned clear_selected_files would run through eval, which the CSP forbids.
        await self._refresh(user.id)

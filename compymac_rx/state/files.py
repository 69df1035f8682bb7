"""The workspace file panel beside the chat: tree, preview, upload, delete."""

from __future__ import annotations

import dataclasses

import reflex as rx
from reflex.event import EventSpec

from compymac_rx import routes
from compymac_rx.files import service as files
from compymac_rx.settings import get_settings
from compymac_rx.state.auth import AuthState

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


class FilesState(AuthState):
    panel_open: bool = False
    entries: rx.Field[list[FileView]] = rx.field(default_factory=list)
    selected: str = ""
    preview_kind: str = ""
    preview_text: str = ""
    preview_language: str = "text"
    preview_url: str = ""
    download_url: str = ""
    notice: str = ""
    confirm_delete: str = ""
    _session_id: str = ""

    @rx.var
    def upload_limit(self) -> str:
        return f"{get_settings().upload_max_bytes // 1_000_000} MB"

    def refresh_for(self, user_id: str, session_id: str) -> None:
        """Called by ChatState when a session opens and when a turn touched files."""
        if session_id != self._session_id:
            self.selected, self.preview_kind, self.notice = "", "", ""
        self._session_id = session_id
        self.entries = (
            [_view(e) for e in files.list_tree(user_id, session_id)] if session_id else []
        )

    @rx.event
    def toggle(self) -> None:
        self.panel_open = not self.panel_open

    @rx.event
    def select(self, path: str) -> EventSpec | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        try:
            found = files.preview(user.id, self._session_id, path)
        except files.FileError as error:
            self.notice = str(error)
            return None
        self.selected, self.preview_kind, self.notice = path, found.kind, ""
        self.preview_text, self.preview_language = found.text, found.language or "text"
        self.preview_url = routes.file_url(self._session_id, path, inline=True)
        self.download_url = routes.file_url(self._session_id, path)
        return None

    @rx.event
    def ask_delete(self, path: str) -> None:
        self.confirm_delete = path

    @rx.event
    def cancel_delete(self) -> None:
        self.confirm_delete = ""

    @rx.event
    def delete(self) -> EventSpec | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        try:
            files.delete_path(user.id, self._session_id, self.confirm_delete)
        except files.FileError as error:
            self.notice = str(error)
        if self.selected == self.confirm_delete:
            self.selected, self.preview_kind = "", ""
        self.confirm_delete = ""
        self.refresh_for(user.id, self._session_id)
        return None

    @rx.event
    async def upload(self, uploads: list[rx.UploadFile]) -> EventSpec | None:
        if (user := self._current_user()) is None:
            return self._to_signin()
        limit = get_settings().upload_max_bytes
        saved: list[str] = []
        for upload in uploads:
            try:
                if upload.size is not None and upload.size > limit:
                    raise files.FileError(f"{upload.name} is too big: at most {limit:,} bytes.")
                data = await upload.read(limit + 1)
                saved.append(
                    files.save_upload(user.id, self._session_id, upload.name or "upload", data)
                )
            except files.FileError as error:
                self.notice = str(error)
                break
        else:
            self.notice = f"Uploaded {', '.join(saved)}." if saved else "Choose a file first."
        self.refresh_for(user.id, self._session_id)
        clear: EventSpec = rx.clear_selected_files(UPLOAD_ID)
        return clear

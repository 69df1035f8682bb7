"""The settings page's "Your data" section: import conversations (exports are plain links)."""

from __future__ import annotations

import reflex as rx

from compymac_rx import ratelimit
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.exports import importer
from compymac_rx.exports.models import ImportFailed
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in

IMPORT_UPLOAD_ID = "import-upload"


class TransferState(AuthState):
    import_notice: str = ""
    import_ok: bool = False

    @rx.event
    @signed_in
    async def import_files(self, user: CurrentUser, uploads: list[rx.UploadFile]) -> None:
        """Each file is imported in one transaction; the first refusal stops the rest."""
        limit = get_settings().upload_max_bytes
        imported = 0
        self.import_ok = False
        for upload in uploads:
            name = (upload.name or "file")[:200]
            if wait := await off_loop(ratelimit.take, "upload_user", f"user:{user.id}"):
                self.import_notice = f"Too many uploads. Try again in {wait} s."
                return
            data = await upload.read(limit + 1)
            if len(data) > limit:
                self.import_notice = f"{name} is too big: at most {limit:,} bytes."
                return
            try:
                imported += len(await off_loop(importer.import_file, user.id, name, data))
            except ImportFailed as error:
                self.import_notice = f"{name}: {error} Nothing from it was imported."
                return
        if not uploads:
            self.import_notice = "Choose a file first."
            return
        self.import_ok = True
        self.import_notice = f"Imported {imported} session{'s' if imported != 1 else ''}."

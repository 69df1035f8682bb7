"""Browser uploads saved into a session's workspace: one loop for the file panel and the
attachment picker."""

from __future__ import annotations

import dataclasses

import reflex as rx

from compymac_rx.files import service as files
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings


@dataclasses.dataclass
class Saved:
    paths: list[str]
    error: str = ""  # why the upload stopped early ("" when every file was saved)


async def save_uploads(user_id: str, session_id: str, uploads: list[rx.UploadFile]) -> Saved:
    """Save each upload in turn (read at most the size limit plus one byte); stop at the
    first refusal, keeping what was saved before it."""
    limit = get_settings().upload_max_bytes
    saved = Saved([])
    for upload in uploads:
        try:
            if upload.size is not None and upload.size > limit:
                raise files.FileError(f"{upload.name} is too big: at most {limit:,} bytes.")
            data = await upload.read(limit + 1)
            name = upload.name or "upload"
            saved.paths.append(await off_loop(files.save_upload, user_id, session_id, name, data))
        except files.FileError as error:
            saved.error = str(error)
            break
    return saved

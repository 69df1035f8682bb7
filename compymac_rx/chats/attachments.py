"""Workspace files attached to a user message: checked when it is sent, read for each turn.

A message stores references only (`meta["attachments"]`: the workspace-relative path, name,
size and media type); the file is read from the workspace when a turn runs, so the model
sees it as it is then. Every file is opened beneath the workspace's descriptor
(compymac_rx.beneath), never by re-walking a checked path, and every read is bounded.
"""

from __future__ import annotations

import codecs
import dataclasses
import mimetypes
import os
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from compymac_rx import beneath
from compymac_rx.agent.types import Attached
from compymac_rx.chats.models import HistoryRow
from compymac_rx.settings import get_settings

_HEAD = 8192
# Images are recognised by their first bytes, not their name: a provider refuses a PNG that
# is not one with a 400 that would fail the whole turn.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)

# application/* types that are text (application/json, application/xml, ...javascript).
_TEXT_SUFFIXES = ("json", "xml", "javascript", "x-sh", "toml", "yaml")


class AttachmentError(ValueError):
    """A refusal worth showing to the user as it is."""


@dataclasses.dataclass(frozen=True)
class AttachmentRef:
    """What a message stores about one attached file."""

    path: str
    name: str
    size: int
    media_type: str

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")

    def as_meta(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def refs_of(meta: dict[str, Any]) -> list[AttachmentRef]:
    """A stored message's attachments (none when its meta has no well-formed list)."""
    found = meta.get("attachments")
    if not isinstance(found, list):
        return []
    return [
        AttachmentRef(str(a["path"]), str(a["name"]), int(a["size"]), str(a["media_type"]))
        for a in found
        if isinstance(a, dict) and {"path", "name", "size", "media_type"} <= a.keys()
    ]


def _image_type(head: bytes) -> str | None:
    for magic, media_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def media_type_of(path: str, head: bytes) -> str | None:
    """image/* by the first bytes; a text type when the head is UTF-8 text (the name picks
    which, text/plain by default); None for anything else (PDF, zip, executables...)."""
    image = _image_type(head)
    if image is not None:
        return image
    try:  # an incremental decode: a character cut at the head's end is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if b"\x00" in head:
        return None
    guessed, _ = mimetypes.guess_type(path)
    if guessed and (guessed.startswith("text/") or guessed.endswith(_TEXT_SUFFIXES)):
        return guessed
    return "text/plain"


def _refusal(path: str, error: Exception) -> AttachmentError:
    if isinstance(error, FileNotFoundError):
        return AttachmentError(f"{path} is no longer in the workspace.")
    if isinstance(error, (beneath.NotRegularFile, IsADirectoryError)):
        return AttachmentError(f"{path} is not a file; only files can be attached.")
    if isinstance(error, OSError):
        return AttachmentError(f"{path}: {error.strerror or 'cannot be read'}.")
    return AttachmentError(str(error))  # PathEscapeError and other ValueErrors say what


def check_attachments(workspace: Path, paths: Sequence[str]) -> list[AttachmentRef]:
    """The references to store for `paths` (in order, once each), or an AttachmentError.

    FileNotFoundError when the workspace itself is missing (the caller's "no such session").
    """
    settings = get_settings()
    unique = list(dict.fromkeys(p.strip() for p in paths if p.strip()))
    if len(unique) > settings.attachments_per_message:
        raise AttachmentError(
            f"Too many attachments: a message can carry at most "
            f"{settings.attachments_per_message} files."
        )
    if not unique:
        return []
    with beneath.opened_root(workspace) as root:
        return [_check_one(root, path, settings.attachment_max_bytes) for path in unique]


def _check_one(root: int, path: str, max_bytes: int) -> AttachmentRef:
    try:
        shown = "/".join(beneath.parts(path))
        if not shown:
            raise IsADirectoryError(path)
        with beneath.opened(root, shown) as fd:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise beneath.NotRegularFile(shown)
            if info.st_size > max_bytes:
                raise AttachmentError(
                    f"{shown} is too big to attach: {info.st_size:,} bytes (at most {max_bytes:,})."
                )
            head, _ = beneath.read_regular(fd, _HEAD)
    except AttachmentError:
        raise
    except (OSError, ValueError) as error:
        raise _refusal(path, error) from None
    media_type = media_type_of(shown, head)
    if media_type is None:
        raise AttachmentError(
            f"{shown} is a binary file: only text files and PNG, JPEG, GIF or WebP images "
            "can be attached."
        )
    return AttachmentRef(shown, PurePosixPath(shown).name, info.st_size, media_type)


def read_for_history(workspace: str, history: Sequence[HistoryRow]) -> dict[int, list[Attached]]:
    """Each user message's attachments as read now (message id -> files), newest first.

    Reading stops where the model could not use more: text at MODEL_CONTEXT_TOKENS x 4
    characters in all, images at ATTACHMENTS_PER_MESSAGE x ATTACHMENT_MAX_BYTES. Older files
    past that are named with a note (they are still in the workspace for the agent's tools).
    """
    settings = get_settings()
    wanted = [
        (row.id, refs)
        for row in reversed(history)
        if row.role == "user" and (refs := refs_of(row.meta))
    ]
    if not wanted:
        return {}
    room = {
        "text": settings.model_context_tokens * 4,
        "image": settings.attachments_per_message * settings.attachment_max_bytes,
    }
    found: dict[int, list[Attached]] = {}
    try:
        root = beneath.open_root(workspace)
    except OSError:
        return {
            message_id: [_noted(ref, "the workspace folder is missing") for ref in refs]
            for message_id, refs in wanted
        }
    try:
        for message_id, refs in wanted:
            files = []
            for ref in refs:
                kind = "image" if ref.is_image else "text"
                attached = _read_one(root, ref, room[kind], settings.file_read_limit)
                room[kind] -= len(attached.text or "") + len(attached.image)
                files.append(attached)
            found[message_id] = files
    finally:
        os.close(root)
    return found


def _noted(ref: AttachmentRef, note: str) -> Attached:
    return Attached(ref.path, ref.media_type, ref.size, note=note)


def _read_one(root: int, ref: AttachmentRef, budget: int, text_limit: int) -> Attached:
    if budget <= 0:
        return _noted(
            ref,
            "left out: newer attached files already fill the context window "
            "(it is in the workspace for the tools)",
        )
    limit = min(budget, get_settings().attachment_max_bytes if ref.is_image else text_limit)
    try:
        data, info = beneath.read(root, ref.path, limit)
    except FileNotFoundError:
        return _noted(ref, "no longer in the workspace")
    except (OSError, ValueError) as error:
        return _noted(ref, str(_refusal(ref.path, error)))
    if ref.is_image:
        if len(data) > limit or _image_type(data[:16]) != ref.media_type:
            return _noted(ref, "the image changed since it was attached and is left out")
        return Attached(ref.path, ref.media_type, info.st_size, image=data)
    if b"\x00" in data[:_HEAD]:
        return _noted(ref, "no longer a text file")
    text = data[:limit].decode("utf-8", errors="replace")
    return Attached(
        ref.path, ref.media_type, info.st_size, text=text, cut_at_read=len(data) > limit
    )

"""Shapes and errors shared by the exporter and the importers."""

from __future__ import annotations

import dataclasses

from compymac_rx.exports import formats


class ImportFailed(Exception):
    """A file that cannot be imported; the message says why, for the person who sent it."""


class ExportTooLarge(Exception):
    """An export above EXPORT_MAX_MB, refused before it starts."""


@dataclasses.dataclass
class ParsedSession:
    """One conversation read from a file, before it is stored under its new owner."""

    record: formats.SessionRecord
    messages: list[formats.MessageRecord]
    # (path inside the workspace, content), from an account zip.
    files: list[tuple[str, bytes]] = dataclasses.field(default_factory=list)

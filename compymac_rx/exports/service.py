"""Export a session (JSON, Markdown) or a whole account (a zip with workspace files).

Every function takes the owner's id; a session that is not theirs is `chats.NotFound`.
The account zip is produced as a stream of chunks (see `account_zip`): nothing is built in
memory or on disk, and the size is checked before the first byte is sent.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

from compymac_rx import beneath
from compymac_rx.audit import service as audit
from compymac_rx.chats import repository
from compymac_rx.chats.models import AgentSession, Message
from compymac_rx.chats.service import NotFound, owned_session
from compymac_rx.db import session_scope, utcnow
from compymac_rx.exports import formats
from compymac_rx.exports.models import ExportTooLarge
from compymac_rx.settings import get_settings

_CHUNK = 256 * 1024
# Per message: JSON keys, timestamps and meta, beyond the content itself.
_MESSAGE_OVERHEAD = 1024
MAX_FILES = 100_000


def _record(row: AgentSession, messages: list[Message]) -> formats.SessionExport:
    return formats.SessionExport(
        format=formats.SESSION_FORMAT,
        version=formats.VERSION,
        exported_at=utcnow(),
        # Read field by field off the rows; the record types validate what they read.
        session=formats.SessionRecord.model_validate(row, from_attributes=True),
        messages=[formats.MessageRecord.model_validate(m, from_attributes=True) for m in messages],
    )


def _limit() -> int:
    return get_settings().export_max_mb * 1024 * 1024


def _too_large(size: int) -> ExportTooLarge:
    mb = get_settings().export_max_mb
    return ExportTooLarge(
        f"This export would be about {size / 1048576:,.0f} MB; the limit is {mb:,} MB. "
        "Export sessions one by one, or ask the operator to raise EXPORT_MAX_MB."
    )


def _audit(user_id: str, action: str, target: str, outcome: str, **detail: object) -> None:
    audit.own(action, user_id, target=target, outcome=outcome, detail=detail)


def export_session(user_id: str, session_id: str) -> formats.SessionExport:
    """The session's export record (not audited: the downloads below are)."""
    with session_scope() as db:
        row = owned_session(db, user_id, session_id)
        messages = list(repository.all_messages(db, user_id=user_id, session_id=session_id))
    size = sum(len(m.content) + _MESSAGE_OVERHEAD for m in messages)
    if size > _limit():
        raise _too_large(size)
    return _record(row, messages)


def _audited_export(user_id: str, session_id: str, kind: str) -> formats.SessionExport:
    """One `export.session` event per download: ok, or refused when too large."""
    target = f"chat:{session_id}"
    try:
        record = export_session(user_id, session_id)
    except ExportTooLarge:
        _audit(user_id, "export.session", target, "refused", format=kind, reason="too large")
        raise
    _audit(user_id, "export.session", target, "ok", format=kind, messages=len(record.messages))
    return record


def session_json(user_id: str, session_id: str) -> bytes:
    return formats.session_json(_audited_export(user_id, session_id, "json"))


def session_markdown(user_id: str, session_id: str) -> str:
    return formats.session_markdown(_audited_export(user_id, session_id, "markdown"))


@dataclasses.dataclass(frozen=True)
class AccountPlan:
    """What an account export will hold: the sessions (ids, oldest first) and its size."""

    session_ids: list[str]
    workspaces: dict[str, Path]
    size: int


def _files_size(workspace: Path) -> int:
    try:
        with beneath.opened_root(workspace) as root:
            return sum(
                found.entry.info.st_size
                for found in beneath.walk(root, max_entries=MAX_FILES)
                if found.entry.is_file
            )
    except FileNotFoundError:
        return 0


def plan_account_export(user_id: str) -> AccountPlan:
    """The account's sessions and the export's size; ExportTooLarge above the limit."""
    with session_scope() as db:
        rows = list(repository.all_sessions(db, user_id=user_id))
        content = repository.content_size(db, user_id=user_id)
    workspaces = {row.id: Path(row.workspace_path) for row in rows}
    size = content + sum(_files_size(path) for path in workspaces.values())
    # The one `export.account` event: every download of the zip starts with this plan.
    if size > _limit():
        _audit(user_id, "export.account", "account", "refused", bytes=size, reason="too large")
        raise _too_large(size)
    _audit(user_id, "export.account", "account", "ok", sessions=len(rows), bytes=size)
    return AccountPlan([row.id for row in rows], workspaces, size)


class _Pipe:
    """A write-only file for zipfile that hands out what was written so far."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _workspace_files(
    zf: zipfile.ZipFile, pipe: _Pipe, prefix: str, workspace: Path
) -> Iterator[bytes]:
    """Regular files of a workspace, each opened beneath its root (symlinks are skipped)."""
    try:
        root = beneath.open_root(workspace)
    except FileNotFoundError:
        return
    try:
        for found in beneath.walk(root, max_entries=MAX_FILES):
            if not found.entry.is_file:
                continue
            try:
                fd = beneath.open_beneath(root, found.path)
            except OSError:
                continue  # gone or swapped meanwhile
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                with zf.open(f"{prefix}{found.path}", "w", force_zip64=True) as out:
                    while chunk := os.read(fd, _CHUNK):
                        out.write(chunk)
                        yield pipe.take()
            finally:
                os.close(fd)
    finally:
        os.close(root)


def account_zip(user_id: str, plan: AccountPlan) -> Iterator[bytes]:
    """The account as zip bytes, chunk by chunk: `account.json`, `sessions/<id>.json`,
    `workspaces/<id>/<path>`. Blocking: a web route pulls each chunk off the event loop."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        manifest = formats.AccountManifest(
            format=formats.ACCOUNT_FORMAT,
            version=formats.VERSION,
            exported_at=utcnow(),
            sessions=plan.session_ids,
        )
        zf.writestr("account.json", manifest.model_dump_json(indent=2))
        for session_id in plan.session_ids:
            try:
                # Not session_json: the account export is one event, not one per session.
                data = formats.session_json(export_session(user_id, session_id))
            except NotFound:
                continue  # deleted while the export ran
            zf.writestr(f"sessions/{session_id}.json", data)
            yield pipe.take()
            yield from _workspace_files(
                zf, pipe, f"workspaces/{session_id}/", plan.workspaces[session_id]
            )
    yield pipe.take()

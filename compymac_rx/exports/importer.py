"""Import conversations: this app's JSON (a session), its account zip, ChatGPT's export.

Each file is one transaction: every session in it is stored, or none is. Sessions get new
ids and belong to the importing user whatever the file says. Workspace files from a zip are
written beneath the new workspaces before the transaction commits, and removed if it fails.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import pydantic

from compymac_rx import beneath, workspaces
from compymac_rx.audit import service as audit
from compymac_rx.chats import repository
from compymac_rx.chats import service as chats
from compymac_rx.chats.changes import announce_session
from compymac_rx.chats.models import AgentSession
from compymac_rx.chats.service import max_tokens_limit
from compymac_rx.db import new_id, session_scope
from compymac_rx.exports import chatgpt, formats
from compymac_rx.exports.models import ImportFailed, ParsedSession
from compymac_rx.settings import get_settings

MAX_ZIP_ENTRIES = 20_000
MAX_SESSIONS = 10_000


def _explain(error: pydantic.ValidationError, what: str) -> ImportFailed:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the top level"
    return ImportFailed(
        f"{what}: {where}: {first['msg']} (and {error.error_count() - 1} more)"
        if error.error_count() > 1
        else f"{what}: {where}: {first['msg']}"
    )


def _json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFailed(f"{name} is not valid JSON ({error}).") from None


def _session(value: Any, name: str) -> ParsedSession:
    try:
        export = formats.SessionExport.model_validate(value)
    except pydantic.ValidationError as error:
        raise _explain(error, f"{name} is not a session export of this app") from None
    return ParsedSession(export.session, list(export.messages))


def _zip_path(name: str) -> tuple[str, str] | None:
    """`workspaces/<old id>/<path>` -> (old id, path); None for anything else."""
    parts = PurePosixPath(name).parts
    if len(parts) < 3 or parts[0] != "workspaces":
        return None
    if any(part in ("..", ".", "") for part in parts) or name.startswith("/"):
        raise ImportFailed(f"The zip holds an unsafe path: {name[:200]}")
    return parts[1], "/".join(parts[2:])


def _account_zip(data: bytes) -> list[ParsedSession]:
    settings = get_settings()
    budget = settings.import_max_mb * 1024 * 1024
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFailed("That file is not a readable zip.") from None
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > MAX_ZIP_ENTRIES:
            raise ImportFailed(f"The zip holds more than {MAX_ZIP_ENTRIES:,} files.")
        # Declared sizes first (cheap), then every read is capped too: a lying header
        # cannot make us inflate more than the budget.
        if sum(info.file_size for info in entries) > budget:
            raise ImportFailed(
                f"The zip unpacks to more than {settings.import_max_mb:,} MB (IMPORT_MAX_MB)."
            )
        names = {info.filename for info in entries}
        if "account.json" not in names:
            raise ImportFailed("The zip has no account.json: it is not an account export.")
        try:
            formats.AccountManifest.model_validate(
                _json(_read(archive, "account.json"), "account.json")
            )
        except pydantic.ValidationError as error:
            raise _explain(error, "account.json is not this app's account manifest") from None
        sessions: dict[str, ParsedSession] = {}
        for info in entries:
            name = info.filename
            if name.startswith("sessions/") and name.endswith(".json"):
                parsed = _session(_json(_read(archive, name), name), name)
                sessions[PurePosixPath(name).stem] = parsed
        for info in entries:
            found = _zip_path(info.filename)
            if found is None:
                continue
            old_id, path = found
            if old_id not in sessions:
                raise ImportFailed(f"{info.filename} belongs to no session in the zip.")
            sessions[old_id].files.append((path, _read(archive, info.filename)))
    if len(sessions) > MAX_SESSIONS:
        raise ImportFailed(f"At most {MAX_SESSIONS:,} sessions can be imported at once.")
    return list(sessions.values())


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    limit = get_settings().import_max_mb * 1024 * 1024
    try:
        with archive.open(name) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError) as error:
        raise ImportFailed(f"{name} cannot be read from the zip ({error}).") from None
    if len(data) > limit:
        raise ImportFailed(f"{name} unpacks to more than {limit // 1048576:,} MB.")
    return data


def parse(filename: str, data: bytes) -> list[ParsedSession]:
    """The sessions a file holds, by its content (not its name); ImportFailed if none."""
    if data[:4] == b"PK\x03\x04":
        return _account_zip(data)
    value = _json(data, filename or "That file")
    if isinstance(value, list):
        return chatgpt.parse(value)
    if isinstance(value, dict) and value.get("format") == formats.SESSION_FORMAT:
        return [_session(value, filename or "That file")]
    if isinstance(value, dict) and value.get("format") == formats.ACCOUNT_FORMAT:
        raise ImportFailed("That is an account manifest: upload the whole account zip instead.")
    raise ImportFailed(
        "That file is none of the formats this app imports: its own session JSON or account "
        "zip, or ChatGPT's conversations.json."
    )


@contextmanager
def _new_workspaces() -> Iterator[list[Path]]:
    """Workspaces created for an import, removed again if the import fails."""
    created: list[Path] = []
    try:
        yield created
    except BaseException:
        for path in created:
            workspaces.delete_workspace(path)
        raise


def _write_files(workspace: Path, files: list[tuple[str, bytes]]) -> None:
    quota = get_settings().workspace_quota_mb * 1024 * 1024
    if sum(len(data) for _, data in files) > quota:
        raise ImportFailed("A session's files are larger than the workspace quota.")
    with beneath.opened_root(workspace) as root:
        for path, data in files:
            try:
                beneath.write_atomic(root, path, data, make_parents=True)
            except (OSError, ValueError) as error:
                raise ImportFailed(f"{path[:200]} cannot be written ({error}).") from None


def store(user_id: str, sessions: list[ParsedSession]) -> list[str]:
    """Every session of one file under `user_id`, in one transaction; their new ids."""
    if not sessions:
        raise ImportFailed("That file holds no conversation to import.")
    root = get_settings().workspaces_root
    new_ids: list[str] = []
    with _new_workspaces() as created, session_scope() as db:
        for parsed in sessions:
            session_id = new_id()
            path = workspaces.create_workspace(workspaces.workspace_path(root, user_id, session_id))
            created.append(path)
            _write_files(path, parsed.files)
            info = parsed.record
            source = AgentSession(
                id=session_id,
                user_id=user_id,
                workspace_path=str(path.resolve()),
                title=" ".join(info.title.split())[: get_settings().max_title_chars] or "Imported",
                archived=info.archived,
                model=info.model,
                system_prompt=info.system_prompt,
                temperature=info.temperature,
                # Another server's window may be larger than ours: then ours decides.
                max_output_tokens=(
                    info.max_output_tokens
                    if (info.max_output_tokens or 0) <= max_tokens_limit()
                    else None
                ),
                created_at=info.created_at,
                last_activity_at=info.last_activity_at,
            )
            repository.add_imported_session(
                db,
                user_id=user_id,
                session_id=session_id,
                workspace_path=source.workspace_path,
                source=source,
            )
            # An export holds one version of each turn (the chosen path): it comes in linear.
            parent: int | None = None
            for seq, message in enumerate(sorted(parsed.messages, key=lambda m: m.seq), 1):
                stored = repository.insert_message(
                    db,
                    user_id=user_id,
                    session_id=session_id,
                    seq=seq,
                    message=repository.NewMessage(
                        message.role, message.content, message.meta, parent_id=parent
                    ),
                    job_id=None,  # the jobs stay behind; ids would only collide
                    now=message.created_at,
                )
                if message.role == "user":
                    parent = stored.id
            new_ids.append(session_id)
    return new_ids


def import_file(user_id: str, filename: str, data: bytes) -> list[str]:
    """Parse and store one file; ImportFailed (nothing stored) when it cannot be imported.
    Either way one `import` event says which file and how it ended."""
    name = filename[:100]
    try:
        new_ids = store(user_id, parse(filename, data))
    except ImportFailed as error:
        audit.own(
            "import",
            user_id,
            target="import",
            outcome="failed",
            detail={"file": name, "bytes": len(data), "reason": str(error)[:200]},
        )
        raise
    audit.own(
        "import",
        user_id,
        target="import",
        detail={"file": name, "bytes": len(data), "sessions": len(new_ids)},
    )
    for session_id in new_ids:
        if (row := chats.get_session(user_id, session_id)) is not None:
            announce_session(user_id, row)
    return new_ids

"""What a user's other tabs learn when one of their sessions changes.

Published on the event bus after the change is committed, to a channel of the user's own, so
every open tab of that user (in any backend process) updates its sidebar. Each event carries
the changed row: applying it needs no database read. The database stays the truth: a tab that
missed an event (it was offline) reads the list again when it reconnects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from compymac_rx.chats.models import SessionPublic
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import UserEvent

SESSION = "session"
SESSION_DELETED = "session_deleted"


def session_payload(row: SessionPublic) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "archived": row.archived,
        "last_activity_at": row.last_activity_at.isoformat(),
    }


def session_from_payload(payload: dict[str, Any]) -> SessionPublic:
    return SessionPublic(
        id=str(payload["id"]),
        title=str(payload["title"]),
        archived=bool(payload["archived"]),
        last_activity_at=datetime.fromisoformat(str(payload["last_activity_at"])),
    )


def announce_session(user_id: str, row: SessionPublic) -> None:
    """A session was created or changed (title, archived, last activity). Blocks briefly."""
    get_bus().publish_user(UserEvent(user_id, SESSION, {"session": session_payload(row)}))


def announce_deleted(user_id: str, session_id: str) -> None:
    get_bus().publish_user(UserEvent(user_id, SESSION_DELETED, {"session_id": session_id}))

"""The events a running job publishes for live views. The database stays the truth."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

# kinds (the contract between the job and the views):
#   "status" {status, error?, position?, retry?}
#   "delta" {text}: coalesced at the source, many tokens per event (jobs/publisher.py)
#   "reasoning" {text}: the model's streamed reasoning, coalesced the same way
#   "tool_args" {call_id, tool, text}: a piece of a tool call's arguments while the model
#       streams them (coalesced per call); "tool_start" follows when the call runs
#   "tool_start" {call_id, tool, args}
#   "tool_end" {call_id, message: MESSAGE}, "message" {message: MESSAGE}
# MESSAGE is the stored row (chats.models.message_payload), so a view applies it without a read.
TERMINAL_STATUSES = frozenset({"done", "failed", "cancelled"})


@dataclasses.dataclass(frozen=True)
class JobEvent:
    job_id: str
    session_id: str
    user_id: str
    seq: int
    kind: str
    payload: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.kind == "status" and self.payload.get("status") in TERMINAL_STATUSES

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> JobEvent:
        return cls(**json.loads(raw))

    @classmethod
    def batch_from_json(cls, raw: str | bytes) -> list[JobEvent]:
        """A published batch (a JSON array of events), or a single event."""
        data = json.loads(raw)
        return [cls(**item) for item in (data if isinstance(data, list) else [data])]


@dataclasses.dataclass(frozen=True)
class UserEvent:
    """A change for every open tab of one user, not tied to a job (the sidebar's sessions).

    kinds: "session" {session: SESSION}, "session_deleted" {session_id}; SESSION is
    chats.models.session_payload, so a tab applies it without a read. Not kept for replay: a
    tab that was away reads the list again when it reconnects.
    """

    user_id: str
    kind: str
    payload: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> UserEvent:
        return cls(**json.loads(raw))


class BusUnavailable(Exception):
    """The bus could not be reached: what it holds is unknown, which is not the same as none."""

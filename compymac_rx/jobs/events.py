"""The events a running job publishes for live views. The database stays the truth."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

# kinds: "status" {status, error?}, "delta" {text}, "tool_start" {call_id, tool, args},
# "tool_end" {call_id, message}, "message" {message}: message = the stored row (MessagePublic)
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

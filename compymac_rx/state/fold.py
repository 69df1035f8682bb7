"""Folding a job's events into the live turn a tab shows. Plain Python: no Reflex, no I/O.

The state keeps one `LiveTurn` per tab and calls `fold` for every event that reaches it; the
result says whether the event was applied, was a copy (seq already seen), or arrived after a
gap, in which case the caller replays the missed events first and folds them in order.
"""

from __future__ import annotations

import dataclasses
import enum

from compymac_rx.chats.models import MessagePublic
from compymac_rx.jobs.events import JobEvent
from compymac_rx.state.views import (
    PREVIEW_CHARS,
    MessageView,
    live_tool_view,
    message_view,
    preparing_tool_view,
)


class Outcome(enum.Enum):
    APPLIED = "applied"
    COPY = "copy"  # seq at or below the last one applied: a replayed or repeated event
    GAP = "gap"  # events between the last seq and this one are missing: replay them first
    OTHER = "other"  # another session's or another user's event: never shown


@dataclasses.dataclass
class LiveTurn:
    """What a tab shows of the session's running (or just finished) turn."""

    session_id: str = ""
    user_id: str = ""
    job_id: str = ""
    seq: int = -1
    status: str = ""
    error: str = ""
    position: int = 0
    text: str = ""
    # The reasoning streamed for the step not yet stored (shown as "Thinking").
    reasoning: str = ""
    tools: list[MessageView] = dataclasses.field(default_factory=list)
    # The arguments streamed so far of each call still being written (its last
    # PREVIEW_CHARS + 1 characters: the card shows the tail).
    args: dict[str, str] = dataclasses.field(default_factory=dict)
    # Stored messages the events carried, in order, for the caller to append to the history.
    landed: list[MessageView] = dataclasses.field(default_factory=list)
    # A tool ran or the turn ended: the workspace may have changed.
    files_changed: bool = False

    def start(self, job_id: str) -> None:
        """A turn this tab just queued: its events are numbered from 1."""
        self.job_id, self.seq, self.status, self.error, self.position = job_id, 0, "queued", "", 0
        self.clear_step()

    def clear_step(self) -> None:
        """Nothing half-streamed remains: text, reasoning, tool cards."""
        self.text, self.reasoning, self.tools, self.args = "", "", [], {}


def fold(turn: LiveTurn, event: JobEvent, *, gaps_allowed: bool = False) -> Outcome:
    """Apply one event to `turn` unless it is a copy, another's, or follows a gap.

    `gaps_allowed` is for events from a replay, which are complete by construction.
    """
    if event.session_id != turn.session_id or event.user_id != turn.user_id:
        return Outcome.OTHER
    if event.job_id != turn.job_id:
        turn.job_id, turn.seq = event.job_id, -1
        turn.clear_step()
    if event.seq <= turn.seq:
        return Outcome.COPY
    if not gaps_allowed and event.seq > turn.seq + 1:
        return Outcome.GAP
    turn.seq = event.seq
    payload = event.payload
    if event.kind == "delta":
        turn.text += str(payload.get("text", ""))
    elif event.kind == "reasoning":
        turn.reasoning += str(payload.get("text", ""))
    elif event.kind == "tool_args":
        call_id = str(payload["call_id"])
        raw = (turn.args.get(call_id, "") + str(payload.get("text", "")))[-PREVIEW_CHARS - 1 :]
        turn.args[call_id] = raw
        _put_tool(turn, preparing_tool_view(call_id, str(payload.get("tool", "")), raw))
    elif event.kind == "tool_start":
        call_id = str(payload["call_id"])
        turn.args.pop(call_id, None)
        _put_tool(turn, live_tool_view(call_id, str(payload["tool"]), payload["args"]))
    elif event.kind == "tool_end":
        turn.tools = [t for t in turn.tools if t.call_id != payload["call_id"]]
        turn.landed.append(_landed(payload))
        turn.files_changed = True
    elif event.kind == "message":
        # A stored reply carries the text and the reasoning streamed before it.
        turn.text, turn.reasoning = "", ""
        turn.landed.append(_landed(payload))
    elif event.kind == "status":
        if payload.get("retry"):  # a redelivered job starts its unfinished step again
            turn.clear_step()
        turn.status = str(payload.get("status", ""))
        turn.position = int(payload.get("position") or 0)
        turn.error = str(payload.get("error") or "")
        if "message" in payload:  # the queued event carries the user's message
            turn.landed.append(_landed(payload))
        if event.terminal:
            # Files change through tools, and each tool's end already said so.
            turn.clear_step()
    return Outcome.APPLIED


def _put_tool(turn: LiveTurn, view: MessageView) -> None:
    """A call's card in its place (arguments streaming, then running), or after the others."""
    at = next((i for i, t in enumerate(turn.tools) if t.call_id == view.call_id), None)
    if at is None:
        turn.tools = [*turn.tools, view]
    else:
        turn.tools = [*turn.tools[:at], view, *turn.tools[at + 1 :]]


def next_piece(sent: str, text: str, *, restart: bool = False) -> tuple[str, str] | None:
    """What to send of a growing text the browser has `sent` of (components/live_text.jsx adds
    the pieces up): ("piece", what is new) when it grew, ("base", the whole text) when it
    started over, None when nothing changed. The bytes sent grow with the text's length, not
    its square."""
    if text == sent and not restart:
        return None
    if not restart and sent and text.startswith(sent):
        return ("piece", text[len(sent) :])
    return ("base", text)


def _landed(payload: dict[str, object]) -> MessageView:
    message = payload["message"]
    assert isinstance(message, dict)
    return message_view(MessagePublic(**message))


@dataclasses.dataclass
class Ring:
    """Slots used round-robin: `head` is the oldest filled one, `count` how many are filled."""

    head: int
    count: int
    size: int
    # The last push took the oldest item's slot: that item left the window.
    dropped: bool = False

    def push(self) -> int:
        """The slot for a new item, after the others."""
        if self.count < self.size:
            self.count += 1
            self.dropped = False
            return (self.head + self.count - 1) % self.size
        slot, self.head, self.dropped = self.head, (self.head + 1) % self.size, True
        return slot

    def order(self, slot: int) -> int:
        """Where the item in `slot` stands, oldest first (the page computes the same)."""
        return (slot + self.size - self.head) % self.size

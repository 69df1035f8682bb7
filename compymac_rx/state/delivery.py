"""What the live delivery does to one tab for a batch of its session's events."""

from __future__ import annotations

from compymac_rx.jobs.events import JobEvent
from compymac_rx.state.chat import ChatState
from compymac_rx.state.files import FilesState
from compymac_rx.state.live_turn import LiveState


async def apply_events(live: LiveState, events: list[JobEvent]) -> None:
    """Fold the batch in; keep the view's window; refresh the file panel if files changed."""
    files_changed = await live._apply(events)
    if live._trimmed:
        await (await live.get_state(ChatState))._leave_older()
    if files_changed:
        await (await live.get_state(FilesState))._refresh(live._turn.user_id)

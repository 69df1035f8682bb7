"""The live turn of the open session, in a state of its own.

Streamed text, running tool cards, the job's status and the messages that landed since the
page opened live here, apart from the history in ChatState: applying a streamed delta loads,
pickles and sends only this small state, never the conversation. It has no event handlers:
the browser cannot call anything on it.
"""

from __future__ import annotations

import logging

import reflex as rx

from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import BusUnavailable, JobEvent
from compymac_rx.state.auth import AuthState
from compymac_rx.state.fold import LiveTurn, Outcome, Ring, fold, next_piece
from compymac_rx.state.live import hub
from compymac_rx.state.views import MessageView

log = logging.getLogger(__name__)

# Messages stored since the page opened stay in view in RECENT_MAX slots, used round-robin:
# a landing message sets one slot and `recent_head`, so a turn sends its own messages and two
# numbers, however long the session is. Once the slots are full the oldest leaves the view
# (ChatState then shows "Load older" to bring it back).
RECENT_MAX = 12
EMPTY_SLOT = MessageView(id=0, seq=0, role="", content="")


def _empty() -> MessageView:
    return EMPTY_SLOT


class LiveState(AuthState):
    job_id: str = ""
    job_status: str = ""
    job_error: str = ""
    queue_position: int = 0
    # The streamed text is sent as pieces (components/live_text.jsx accumulates them):
    # `stream_base` when it starts over under a new `stream_key`, then each new piece once.
    streaming: bool = False
    stream_key: str = ""
    stream_base: str = ""
    stream_chunk: str = ""
    stream_index: int = 0
    # The reasoning of the step being streamed ("Thinking"), sent the same way.
    thinking: bool = False
    think_key: str = ""
    think_base: str = ""
    think_chunk: str = ""
    think_index: int = 0
    tools: rx.Field[list[MessageView]] = rx.field(default_factory=list)
    # The slots, one var each (Reflex sends only the vars that changed), as many as RECENT_MAX
    # says: `recent_0` ... `recent_11`, read and set by name (pages/chat.py, `_land`).
    for _slot in range(RECENT_MAX):
        __annotations__[f"recent_{_slot}"] = "rx.Field[MessageView]"
        vars()[f"recent_{_slot}"] = rx.field(default_factory=_empty)
    del _slot
    # The slot of the oldest message in view, and how many slots hold one.
    recent_head: int = 0
    recent_count: int = 0
    # The same messages in order, for the server's own use (never sent).
    _recent: rx.Field[list[MessageView]] = rx.field(default_factory=list)
    _turn: rx.Field[LiveTurn] = rx.field(default_factory=LiveTurn)
    # The seq of the last message shown (history or recent): older copies are skipped.
    _shown_seq: int = 0
    # What the browser has of the streamed text and reasoning.
    _text: str = ""
    _thought: str = ""
    _restarts: int = 0
    # `recent` dropped its oldest messages: the history before them must leave the view too.
    _trimmed: bool = False
    _token: str = ""  # this tab's client token

    @rx.var
    def running(self) -> bool:
        return self.job_status in ("queued", "running")

    @rx.var
    def queue_label(self) -> str:
        """Over the running limit, a turn waits; its place in line is shown."""
        if self.queue_position > 0:
            return f"queued · #{self.queue_position} in line"
        return "queued"

    def _open(self, user_id: str, session_id: str, shown_seq: int) -> None:
        """A session opened (or closed, with ""): nothing of the previous one remains."""
        self._turn = LiveTurn(session_id=session_id, user_id=user_id)
        self._shown_seq = shown_seq
        for slot in range(min(self.recent_count, RECENT_MAX)):
            setattr(self, f"recent_{(self.recent_head + slot) % RECENT_MAX}", EMPTY_SLOT)
        self._recent, self.recent_head, self.recent_count = [], 0, 0
        self._publish(restart=True)

    def _started(self, job_id: str, message: MessageView | None) -> None:
        """This tab queued a turn; its own message is shown at once."""
        turn = self._raw_turn()
        turn.start(job_id)
        if message is not None:
            turn.landed.append(message)
        self._publish()

    async def _apply(self, events: list[JobEvent]) -> bool:
        """Fold a batch of events in; True when the workspace may have changed."""
        turn = self._raw_turn()
        for event in events:
            if fold(turn, event) is Outcome.GAP:
                # Lost while Redis or this backend reconnected: replay first, never skip.
                try:
                    missed = await get_bus().areplay(event.job_id, turn.seq)
                except BusUnavailable:
                    # The stored messages still land; the half-streamed text may miss a piece.
                    log.warning("job %s: events before seq %d lost", event.job_id, event.seq)
                    missed = []
                for earlier in missed:
                    fold(turn, earlier, gaps_allowed=True)
                fold(turn, event, gaps_allowed=True)
        changed, turn.files_changed = turn.files_changed, False
        self._publish()
        return changed

    async def _resume(
        self, user_id: str, session_id: str, job_id: str, replay: list[JobEvent]
    ) -> bool:
        """A tab back (a reconnect) on the session whose turn it was following, still running:
        fold in only what it has not seen (the fold drops what it has) and send the text whole
        once, since pieces sent while the socket was going down may never have arrived.
        False when the page must be loaded afresh instead (another session or turn, no replay)."""
        turn = self._raw_turn()
        following = (turn.user_id, turn.session_id, turn.job_id) == (user_id, session_id, job_id)
        if not replay or not following or turn.seq < 0:
            return False
        log.info("a tab is back on job %s: resumed after seq %d", job_id, turn.seq)
        await self._apply(replay)  # the caller shows the files afresh
        self._publish(restart=True)  # the texts whole, under new keys
        return True

    def _publish(self, *, restart: bool = False) -> None:
        """Copy the folded turn into the vars, touching only those that changed."""
        turn = self._raw_turn()
        fresh = [m for m in turn.landed if m.seq > self._shown_seq]
        turn.landed = []
        for message in fresh:
            self._land(message)
        for name, value in (
            ("job_id", turn.job_id),
            ("job_status", turn.status),
            ("job_error", turn.error),
            ("queue_position", turn.position),
            ("streaming", turn.text != ""),
            ("thinking", turn.reasoning != ""),
        ):
            if getattr(self, name) != value:
                setattr(self, name, value)
        if self.tools != turn.tools:
            self.tools = list(turn.tools)
        self._text = self._stream("stream", self._text, turn.text, restart)
        self._thought = self._stream("think", self._thought, turn.reasoning, restart)
        self._turn = turn  # a plain assignment marks the backend var changed
        if not self._token:
            self._token = self.router.session.client_token  # the router is rebuilt per read
        hub.shown(self._token, turn.job_id, turn.seq)

    def _raw_turn(self) -> LiveTurn:
        """The turn itself, not Reflex's change-tracking proxy of it: folding a batch reads and
        sets many fields, and through the proxy each access cost a wrapper. `_publish` assigns
        the turn back, which marks it changed."""
        turn = self._turn
        raw = getattr(turn, "__wrapped__", turn)
        assert isinstance(raw, LiveTurn)
        return raw

    def _land(self, message: MessageView) -> None:
        """Show a stored message after the others: in a free slot, or in the oldest one's."""
        ring = Ring(self.recent_head, self.recent_count, RECENT_MAX)
        slot = ring.push()
        self._trimmed = self._trimmed or ring.dropped
        self.recent_head, self.recent_count = ring.head, ring.count
        setattr(self, f"recent_{slot}", message)
        self._recent = [*self._recent[-(RECENT_MAX - 1) :], message]
        self._shown_seq = message.seq

    def _stream(self, prefix: str, sent: str, text: str, restart: bool) -> str:
        """Send what is new of a text through the vars `<prefix>_key/_base/_chunk/_index`:
        a piece when it grew, the whole under a new key when it started over."""
        change = next_piece(sent, text, restart=restart)
        if change is None:
            return sent
        kind, piece = change
        if kind == "piece":
            setattr(self, f"{prefix}_chunk", piece)
            setattr(self, f"{prefix}_index", getattr(self, f"{prefix}_index") + 1)
        else:
            self._restarts += 1
            setattr(self, f"{prefix}_key", f"{self._turn.job_id}:{self._restarts}")
            setattr(self, f"{prefix}_base", piece)
            setattr(self, f"{prefix}_chunk", "")
            setattr(self, f"{prefix}_index", 0)
        return text

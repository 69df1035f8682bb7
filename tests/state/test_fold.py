"""The live-turn fold: plain events in, the view a tab shows out. No Reflex, no I/O."""

from __future__ import annotations

from typing import Any

from compymac_rx.jobs.events import JobEvent
from compymac_rx.state.fold import LiveTurn, Outcome, Ring, fold, next_piece

JOB, SESSION, USER = "job1", "s1", "u1"


def event(seq: int, kind: str, job: str = JOB, **payload: Any) -> JobEvent:
    return JobEvent(job, SESSION, USER, seq, kind, payload)


def stored(id_: int, seq: int, role: str, content: str, **meta: Any) -> dict[str, Any]:
    return {"id": id_, "seq": seq, "role": role, "content": content, "meta": meta, "job_id": JOB}


def fresh() -> LiveTurn:
    turn = LiveTurn(session_id=SESSION, user_id=USER)
    turn.start(JOB)
    return turn


def test_deltas_stream_into_the_text_and_a_stored_reply_replaces_them() -> None:
    turn = fresh()
    assert fold(turn, event(1, "status", status="running")) is Outcome.APPLIED
    fold(turn, event(2, "delta", text="Hel"))
    fold(turn, event(3, "delta", text="lo"))
    assert (turn.status, turn.text) == ("running", "Hello")
    fold(turn, event(4, "message", message=stored(9, 5, "assistant", "Hello")))
    assert turn.text == ""
    assert [(m.id, m.role, m.content) for m in turn.landed] == [(9, "assistant", "Hello")]


def test_a_copy_is_dropped_and_a_gap_is_reported_without_applying() -> None:
    turn = fresh()
    fold(turn, event(1, "delta", text="a"))
    assert fold(turn, event(1, "delta", text="a")) is Outcome.COPY
    assert fold(turn, event(3, "delta", text="c")) is Outcome.GAP
    assert (turn.seq, turn.text) == (1, "a")
    # The caller replays what it missed, then the event itself.
    assert fold(turn, event(2, "delta", text="b"), gaps_allowed=True) is Outcome.APPLIED
    assert fold(turn, event(3, "delta", text="c")) is Outcome.APPLIED
    assert turn.text == "abc"


def test_tool_cards_run_then_land_as_stored_records() -> None:
    turn = fresh()
    fold(turn, event(1, "tool_start", call_id="c1", tool="run_command", args={"command": "ls"}))
    assert [(t.tool, t.args, t.running) for t in turn.tools] == [("run_command", "ls", True)]
    output = "x" * 5000
    record = stored(3, 2, "tool", output, call_id="c1", tool="run_command", args={}, ok=True)
    fold(turn, event(2, "tool_end", call_id="c1", message=record))
    assert turn.tools == []
    (landed,) = turn.landed
    assert landed.truncated and len(landed.content) < 2100  # a preview; the rest on request
    assert turn.files_changed


def test_a_retry_drops_the_half_streamed_step_and_the_end_clears_the_live_parts() -> None:
    turn = fresh()
    fold(turn, event(1, "delta", text="half"))
    fold(turn, event(2, "tool_start", call_id="c", tool="t", args={}))
    fold(turn, event(3, "status", status="running", retry=True))
    assert (turn.text, turn.tools) == ("", [])
    fold(turn, event(4, "delta", text="again"))
    fold(turn, event(5, "status", status="failed", error="boom"))
    assert (turn.status, turn.error, turn.text) == ("failed", "boom", "")


def test_queue_position_is_shown_while_waiting() -> None:
    turn = fresh()
    fold(turn, event(1, "status", status="queued", position=3))
    assert (turn.status, turn.position) == ("queued", 3)
    fold(turn, event(2, "status", status="running"))
    assert turn.position == 0


def test_another_sessions_or_users_events_are_never_applied() -> None:
    turn = fresh()
    other_session = JobEvent(JOB, "s2", USER, 1, "delta", {"text": "theirs"})
    other_user = JobEvent(JOB, SESSION, "u2", 1, "delta", {"text": "theirs"})
    assert fold(turn, other_session) is Outcome.OTHER
    assert fold(turn, other_user) is Outcome.OTHER
    assert turn.text == "" and turn.seq == 0


def test_a_new_job_seen_from_another_tab_starts_a_fresh_turn() -> None:
    turn = fresh()
    fold(turn, event(1, "delta", text="old"))
    user_message = stored(20, 7, "user", "next question")
    # Another tab queued a turn: its seq-0 event carries the user's message.
    assert fold(turn, event(0, "status", job="job2", status="queued", message=user_message)) is (
        Outcome.APPLIED
    )
    assert (turn.job_id, turn.text, turn.status) == ("job2", "", "queued")
    assert [m.content for m in turn.landed] == ["next question"]


def test_this_tabs_own_queued_event_is_a_copy() -> None:
    turn = fresh()  # start() already showed the user's message and seq 0
    assert fold(turn, event(0, "status", status="queued")) is Outcome.COPY


def test_the_ring_fills_free_slots_then_reuses_the_oldest_in_order() -> None:
    ring = Ring(head=0, count=0, size=3)
    shown: dict[int, str] = {}
    for item in "abcde":
        shown[ring.push()] = item
    # a and b were dropped, c is now the oldest: the page orders the slots c, d, e.
    assert ring.dropped and (ring.head, ring.count) == (2, 3)
    assert [item for _order, item in sorted((ring.order(s), i) for s, i in shown.items())] == [
        "c",
        "d",
        "e",
    ]


def test_the_ring_drops_nothing_while_it_has_room() -> None:
    ring = Ring(head=0, count=0, size=3)
    assert [ring.push(), ring.push()] == [0, 1]
    assert not ring.dropped and ring.count == 2
    assert [ring.order(0), ring.order(1)] == [0, 1]


def test_reasoning_streams_apart_from_the_text_and_lands_with_the_reply() -> None:
    turn = fresh()
    fold(turn, event(1, "reasoning", text="Let me "))
    fold(turn, event(2, "reasoning", text="think."))
    fold(turn, event(3, "delta", text="Answer"))
    assert (turn.reasoning, turn.text) == ("Let me think.", "Answer")
    reply = stored(9, 5, "assistant", "Answer", reasoning="Let me think.")
    fold(turn, event(4, "message", message=reply))
    assert (turn.reasoning, turn.text) == ("", "")
    (landed,) = turn.landed
    assert (landed.content, landed.reasoning) == ("Answer", "Let me think.")


def test_a_retry_or_the_end_drops_half_streamed_reasoning() -> None:
    turn = fresh()
    fold(turn, event(1, "reasoning", text="hmm"))
    fold(turn, event(2, "status", status="running", retry=True))
    assert turn.reasoning == ""
    fold(turn, event(3, "reasoning", text="again"))
    fold(turn, event(4, "status", status="cancelled"))
    assert turn.reasoning == ""


def test_tool_arguments_grow_in_the_card_which_then_runs_in_place() -> None:
    turn = fresh()
    fold(turn, event(1, "tool_args", call_id="c1", tool="write_file", text=""))
    fold(turn, event(2, "tool_args", call_id="c1", tool="write_file", text='{"path": "no'))
    fold(turn, event(3, "tool_args", call_id="c2", tool="list_files", text="{}"))
    fold(turn, event(4, "tool_args", call_id="c1", tool="write_file", text='tes.md"}'))
    assert [(t.call_id, t.tool, t.args, t.preparing) for t in turn.tools] == [
        ("c1", "write_file", '{"path": "notes.md"}', True),
        ("c2", "list_files", "{}", True),
    ]
    fold(turn, event(5, "tool_start", call_id="c1", tool="write_file", args={"path": "notes.md"}))
    assert [(t.call_id, t.args, t.preparing, t.running) for t in turn.tools] == [
        ("c1", "notes.md", False, True),
        ("c2", "{}", True, True),
    ]
    assert "c1" not in turn.args


def test_long_arguments_show_their_tail_and_keep_a_bounded_buffer() -> None:
    turn = fresh()
    for seq in range(1, 11):
        fold(turn, event(seq, "tool_args", call_id="c1", tool="write_file", text=str(seq) * 500))
    (card,) = turn.tools
    assert card.args.startswith("…") and card.args.endswith("10" * 250)
    assert len(card.args) == 2001
    assert len(turn.args["c1"]) == 2001


def test_next_piece_sends_growth_as_pieces_and_restarts_as_a_base() -> None:
    assert next_piece("", "") is None
    assert next_piece("", "Hel") == ("base", "Hel")
    assert next_piece("Hel", "Hello") == ("piece", "lo")
    assert next_piece("Hello", "Hello") is None
    assert next_piece("Hello", "Bye") == ("base", "Bye")
    assert next_piece("Hello", "Hello", restart=True) == ("base", "Hello")

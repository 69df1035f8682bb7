"""How the benchmarks read a chat turn from Reflex deltas, before and after the live substate."""

from __future__ import annotations

from bench.wire import TurnWatch, delta_vars, find_var

CHAT = "reflex___state____state.compymac_rx___state___auth____auth_state.chat____chat_state"
LIVE = f"{CHAT}.compymac_rx___state___live____live_state"


def d(state: str, **values: object) -> dict[str, dict[str, object]]:
    return {state: {f"{name}_rx_state_": value for name, value in values.items()}}


def test_vars_are_read_without_the_reflex_suffix() -> None:
    delta = {**d(CHAT, current_id="s1"), "other": "not a state"}
    assert list(delta_vars(delta)) == [(CHAT, "current_id", "s1")]
    assert find_var(delta, "current_id") == (CHAT, "s1")
    assert find_var(delta, "missing") is None


def test_a_turn_on_the_chat_state() -> None:
    watch = TurnWatch()
    sent = d(CHAT, job_status="queued", live_text="", live_tools=[], running=True)
    assert not watch.streamed(sent) and not watch.finished(sent)
    assert watch.streamed(d(CHAT, live_text="Hel"))
    assert not watch.streamed(d(CHAT, queue_position=2, queue_label="queued"))
    assert watch.finished(d(CHAT, job_status="done", running=False))
    assert watch.status == "done"


def test_a_turn_on_a_live_substate_ends_when_running_goes_false() -> None:
    watch = TurnWatch()
    sent = d(LIVE, status="queued", chunks=[], seq=0, turn_id="j1")
    assert not watch.streamed(sent) and not watch.finished(sent)
    assert watch.streamed(d(LIVE, chunks=["Hel"], seq=1))
    assert not watch.finished(d(LIVE, seq=2))
    assert watch.finished(d(CHAT, running=False))
    assert watch.status == "done"


def test_a_failed_turn_says_so() -> None:
    watch = TurnWatch()
    assert watch.finished(d(LIVE, status="failed"))
    assert watch.status == "failed"


def test_running_false_before_the_turn_began_is_not_its_end() -> None:
    assert not TurnWatch().finished(d(CHAT, running=False))

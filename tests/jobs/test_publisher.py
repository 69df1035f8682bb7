"""JobPublisher batches a job's events at the source: few publishes, in order, nothing lost."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

from compymac_rx.jobs.bus import MemoryEventBus
from compymac_rx.jobs.events import JobEvent
from compymac_rx.jobs.models import JobRef
from compymac_rx.jobs.publisher import JobPublisher
from compymac_rx.jobs.scheduler import Scheduler

JOB = JobRef("j1", "s1", "u1", 1, datetime(2026, 1, 1, tzinfo=UTC))
FLUSH = 0.04


def publisher(flush_seconds: float = FLUSH) -> tuple[MemoryEventBus, JobPublisher]:
    bus = MemoryEventBus(replay_seconds=60)
    return bus, JobPublisher(bus, JOB, flush_seconds=flush_seconds)


def kinds(events: list[JobEvent]) -> list[str]:
    return [e.kind for e in events]


def text_of(events: list[JobEvent]) -> str:
    return "".join(e.payload["text"] for e in events if e.kind == "delta")


def wait_for(bus: MemoryEventBus, count: int, timeout: float = 2.0) -> list[JobEvent]:
    deadline = time.monotonic() + timeout
    while len(bus.replay("j1")) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return bus.replay("j1")


def test_a_burst_of_deltas_becomes_one_event_with_all_the_text() -> None:
    bus, pub = publisher()
    tokens = [f"t{i} " for i in range(200)]
    for token in tokens:
        pub.delta(token)
    assert bus.replay("j1") == []  # held until the timer (or another event)
    events = wait_for(bus, 1)
    assert kinds(events) == ["delta"]
    assert text_of(events) == "".join(tokens)
    assert [e.seq for e in events] == [1]


def test_a_steady_stream_is_published_at_most_once_per_interval_and_in_order() -> None:
    bus, pub = publisher()
    tokens = [f"w{i} " for i in range(60)]
    started = time.monotonic()
    for token in tokens:  # ~300 ms of tokens, one every 5 ms
        pub.delta(token)
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    pub.publish("message", message={"id": 1})
    pub.flush()
    events = bus.replay("j1")
    deltas = [e for e in events if e.kind == "delta"]
    assert 2 <= len(deltas) <= elapsed / FLUSH + 2  # one per window, plus the final flush
    assert text_of(events) == "".join(tokens)
    assert kinds(events)[-1] == "message"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_events_keep_their_order_and_a_final_status_publishes_them_at_once() -> None:
    bus, pub = publisher(flush_seconds=10)  # the timer never fires within this test
    pub.delta("Let me ")
    pub.delta("look.")
    pub.publish("tool_start", call_id="c1", tool="list_files", args={})
    pub.delta("Done")
    pub.publish("message", message={"id": 2})
    pub.delta("late")
    assert bus.replay("j1") == []  # all kept: the timer has not fired
    pub.publish("status", status="done", error=None)
    events = bus.replay("j1")
    assert [(e.kind, e.payload.get("text")) for e in events] == [
        ("delta", "Let me look."),
        ("tool_start", None),
        ("delta", "Done"),
        ("message", None),
        ("delta", "late"),
        ("status", None),
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]


async def test_a_quick_turn_reaches_subscribers_as_one_batch() -> None:
    bus = MemoryEventBus(replay_seconds=60)
    pub = JobPublisher(bus, JOB, flush_seconds=FLUSH)

    async def receive() -> list[list[int]]:
        batches: list[list[int]] = []
        events = bus.subscribe()
        first = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0)  # subscribed
        thread = threading.Thread(target=quick_turn)
        thread.start()
        batch = [(await first).seq]
        # The rest of the batch is queued with the first: each is taken in one step.
        while len(batch) < 4:
            step = asyncio.ensure_future(anext(events))
            await asyncio.sleep(0)
            assert step.done(), f"event {len(batch) + 1} was not queued with the first"
            batch.append(step.result().seq)
        batches.append(batch)
        thread.join(2)
        await events.aclose()
        return batches

    def quick_turn() -> None:
        pub.publish("status", status="running")
        pub.delta("Hello")
        pub.publish("message", message={"id": 1})
        pub.publish("status", status="done", error=None)

    assert await receive() == [[1, 2, 3, 4]]


def test_a_kept_event_is_published_by_the_timer() -> None:
    bus, pub = publisher()
    pub.publish("status", status="running")
    sent = time.monotonic()
    events = wait_for(bus, 1)
    assert FLUSH * 0.5 <= time.monotonic() - sent < 1.0
    assert kinds(events) == ["status"]


def test_trailing_text_is_flushed_by_the_timer() -> None:
    bus, pub = publisher()
    pub.delta("the end")
    sent = time.monotonic()
    events = wait_for(bus, 1)
    waited = time.monotonic() - sent
    assert text_of(events) == "the end"
    assert FLUSH * 0.5 <= waited < 1.0


def test_a_publish_kind_delta_goes_through_the_buffer() -> None:
    bus, pub = publisher(flush_seconds=10)
    pub.publish("delta", text="a")
    pub.publish("delta", text="b")
    pub.flush()
    assert [e.payload for e in bus.replay("j1")] == [{"text": "ab"}]


def test_zero_interval_publishes_every_delta_at_once() -> None:
    bus, pub = publisher(flush_seconds=0)
    for token in ("a", "b", "", "c"):
        pub.delta(token)
    assert [e.payload["text"] for e in bus.replay("j1")] == ["a", "b", "c"]  # "" is no event


def test_deltas_from_several_threads_lose_nothing_and_keep_numbers_in_order() -> None:
    bus, pub = publisher(flush_seconds=0.002)
    start = threading.Barrier(4)

    def write(name: str) -> None:
        start.wait()
        for i in range(300):
            pub.delta(f"<{name}{i}>")
            if i % 50 == 0:
                pub.publish("tool_start", call_id=f"{name}{i}", tool="t", args={})

    threads = [threading.Thread(target=write, args=(n,)) for n in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    pub.flush()
    events = bus.replay("j1")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    text = text_of(events)
    for name in "abcd":
        pieces = [p for p in text.split(">") if p.startswith(f"<{name}")]
        assert pieces == [f"<{name}{i}" for i in range(300)]  # each writer's order is kept
    assert kinds(events).count("tool_start") == 4 * 6


def test_the_scheduler_runs_calls_in_time_order_and_skips_cancelled_ones() -> None:
    scheduler = Scheduler("test-scheduler")
    ran: list[str] = []
    done = threading.Event()
    scheduler.call_later(0.06, lambda: (ran.append("late"), done.set()))
    scheduler.call_later(0.01, lambda: ran.append("early"))
    scheduler.call_later(0.02, lambda: ran.append("cancelled")).cancel()
    scheduler.call_later(0.03, lambda: 1 / 0)  # type: ignore[func-returns-value]
    assert done.wait(2)
    assert ran == ["early", "late"]


def test_reasoning_and_each_calls_arguments_are_coalesced_runs_of_their_own() -> None:
    bus, pub = publisher(flush_seconds=10)
    pub.reasoning("Let ")
    pub.reasoning("me think.")
    pub.delta("Sure")
    pub.tool_args("c1", "write_file", "")
    pub.tool_args("c1", "write_file", "")  # nothing new: no second event
    pub.tool_args("c1", "write_file", '{"pa')
    pub.tool_args("c1", "write_file", 'th": 1}')
    pub.tool_args("c2", "list_files", "{}")
    pub.publish("tool_start", call_id="c1", tool="write_file", args={"path": 1})
    pub.flush()
    events = bus.replay("j1")
    assert [(e.kind, e.payload) for e in events] == [
        ("reasoning", {"text": "Let me think."}),
        ("delta", {"text": "Sure"}),
        ("tool_args", {"call_id": "c1", "tool": "write_file", "text": '{"path": 1}'}),
        ("tool_args", {"call_id": "c2", "tool": "list_files", "text": "{}"}),
        ("tool_start", {"call_id": "c1", "tool": "write_file", "args": {"path": 1}}),
    ]

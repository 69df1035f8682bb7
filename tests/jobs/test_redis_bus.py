"""The Redis event bus against a real redis-server: replay, live delivery, restarts."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import redis as redis_client
import redis.asyncio as redis_async

from compymac_rx.chats import service as chats
from compymac_rx.jobs.events import BusUnavailable, JobEvent
from compymac_rx.jobs.redis_bus import CHANNEL, RedisEventBus, seq_key, stream_key
from tests.factories import make_user, wait_for_job
from tests.integration.checks import finished_events
from tests.services import Redis
from tests.waiting import await_until


def event(seq: int, kind: str = "delta", job_id: str = "j1", **payload: object) -> JobEvent:
    return JobEvent(job_id, "s1", "u1", seq, kind, dict(payload) or {"text": f"t{seq}"})


T = TypeVar("T")


def on_own_loop(coro: Coroutine[Any, Any, T], *, debug: bool = False) -> T:
    """asyncio.run on a thread of its own: the session's sync Playwright may hold this one's."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro, debug=debug).result()


def test_replay_returns_kept_events_in_order_after_a_seq(redis: Redis) -> None:
    bus = RedisEventBus(redis.url, replay_seconds=60)
    for seq in (1, 2, 3, 2):  # a copy of 2 is dropped
        bus.publish(event(seq))
    assert [e.seq for e in bus.replay("j1")] == [1, 2, 3]
    assert [e.seq for e in bus.replay("j1", after_seq=1)] == [2, 3]
    assert bus.replay("other") == []
    ttl = redis_client.Redis.from_url(redis.url).ttl(stream_key("j1"))
    assert 0 < ttl <= 60


def test_sequence_numbers_go_on_across_publishers_and_restarts(redis: Redis) -> None:
    first = RedisEventBus(redis.url, replay_seconds=60)
    assert [first.next_seq("j1", at_least=1) for _ in range(3)] == [1, 2, 3]
    # A redelivered job on another worker (its own counter starts again at 1) goes on at 4.
    second = RedisEventBus(redis.url, replay_seconds=60)
    assert second.next_seq("j1", at_least=1) == 4
    redis.restart()  # the counter is gone (no persistence); the publisher's floor wins
    assert second.next_seq("j1", at_least=5) == 5
    assert second.next_seq("j1", at_least=1) == 6
    assert redis_client.Redis.from_url(redis.url).ttl(seq_key("j1")) > 0


async def subscribers(url: str) -> int:
    client = redis_async.Redis.from_url(url)
    try:
        [(_channel, count)] = await client.pubsub_numsub(CHANNEL)
        return int(count)
    finally:
        await client.aclose()


async def _collect(
    bus: RedisEventBus, url: str, out: list[JobEvent], ready: threading.Event
) -> None:
    """Appends live events to `out` until one with seq 4 arrives."""
    stream = bus.subscribe()
    task = asyncio.ensure_future(stream.__anext__())
    # The server has the SUBSCRIBE: an event published from now on reaches the stream.
    await await_until(lambda: subscribers(url), timeout=10, what="the bus subscribed")
    ready.set()
    out.append(await asyncio.wait_for(task, 10))
    while out[-1].seq != 4:
        out.append(await asyncio.wait_for(stream.__anext__(), 15))
    await stream.aclose()


def test_a_subscriber_gets_live_events_also_after_a_redis_restart(redis: Redis) -> None:
    bus = RedisEventBus(redis.url, replay_seconds=60)
    ready = threading.Event()
    got: list[JobEvent] = []
    listener = threading.Thread(target=lambda: asyncio.run(_collect(bus, redis.url, got, ready)))
    listener.start()
    assert ready.wait(10)
    bus.publish(event(1))
    bus.publish(event(2))
    redis.restart()
    # Until the subscriber is back, live copies of 3 go nowhere (the stream keeps them).
    for _ in range(100):
        if any(e.seq == 3 for e in got):
            break
        bus.publish(event(3))
        listener.join(0.1)
    bus.publish(event(4))
    listener.join(20)
    seqs = sorted({e.seq for e in got})
    assert seqs == [1, 2, 3, 4]
    assert [e.seq for e in bus.replay("j1")] == [3, 4]  # the restart lost 1 and 2


def test_a_turn_on_the_redis_bus_leaves_a_gapless_replay(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_BUS", "redis")
    user = make_user()
    session = chats.create_session(user.id)
    job_id = chats.send_message(user.id, session.id, "run echo hello")
    assert wait_for_job(user.id, job_id).status == "done"
    events = finished_events(job_id)
    assert [e.seq for e in events] == list(range(len(events)))
    assert events[0].payload["status"] == "queued"
    assert events[0].payload["message"]["content"] == "run echo hello"  # for other tabs
    assert events[-1].terminal and events[-1].payload["status"] == "done"


def test_areplay_gives_what_replay_gives_on_any_event_loop(redis: Redis) -> None:
    bus = RedisEventBus(redis.url, replay_seconds=60)
    for seq in (1, 2, 3, 2):
        bus.publish(event(seq))

    async def replayed(after_seq: int) -> list[int]:
        return [e.seq for e in await bus.areplay("j1", after_seq=after_seq)]

    assert on_own_loop(replayed(0)) == [1, 2, 3]
    assert on_own_loop(replayed(2)) == [3]  # a second loop gets its own client
    assert on_own_loop(bus.areplay("other")) == []


def blocking_calls_on_loop(
    work: Callable[[], Coroutine[Any, Any, None]], seconds: float
) -> list[str]:
    """Run `work` for a while on its own loop; what it did there that waits.

    Counted by what is called, not by how long it took, so a busy machine cannot fail it:
    the sync Redis client, a blocking socket connect and time.sleep, on the loop's thread.
    A step holding the loop for a whole second is counted too, whatever it was.
    """
    found: list[str] = []
    loop_thread: list[int] = []

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            # asyncio connects its own sockets with connect() too, but never a blocking one.
            waits = not isinstance(args[0], socket.socket) or args[0].getblocking()
            if waits and loop_thread and threading.get_ident() == loop_thread[0]:
                found.append(name)
            return original(*args, **kwargs)

        return call

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "took" in record.getMessage():
                found.append(record.getMessage())

    async def main() -> None:
        loop_thread.append(threading.get_ident())
        asyncio.get_running_loop().slow_callback_duration = 1.0
        task = asyncio.ensure_future(work())
        await asyncio.sleep(seconds)
        task.cancel()

    handler = Catch()
    logging.getLogger("asyncio").addHandler(handler)
    with pytest.MonkeyPatch.context() as patch:
        owner: type
        for owner, name in (
            (redis_client.Redis, "execute_command"),
            (redis_client.client.PubSub, "execute_command"),
            (redis_client.connection.Connection, "connect"),
            (socket.socket, "connect"),
        ):
            patch.setattr(owner, name, spy(f"{owner.__name__}.{name}", getattr(owner, name)))
        patch.setattr(time, "sleep", spy("time.sleep", time.sleep))
        try:
            on_own_loop(main(), debug=True)
        finally:
            logging.getLogger("asyncio").removeHandler(handler)
    return found


def test_subscribe_and_areplay_never_block_the_loop_while_redis_is_down(redis: Redis) -> None:
    bus = RedisEventBus(redis.url, replay_seconds=60)
    redis.stop()
    try:

        async def subscribe_forever() -> None:
            async for _event in bus.subscribe():
                pass

        async def replay_repeatedly() -> None:
            while True:  # a tab reloading every 20 ms
                assert await bus.areplay("j1") == []
                await asyncio.sleep(0.02)

        assert blocking_calls_on_loop(subscribe_forever, 1.5) == []
        assert blocking_calls_on_loop(replay_repeatedly, 1.0) == []
    finally:
        redis.start()


def test_the_spy_sees_a_sync_redis_call_on_the_loop(redis: Redis) -> None:
    bus = RedisEventBus(redis.url, replay_seconds=60)

    async def replay_the_blocking_way() -> None:
        bus.replay("j1")

    assert "Redis.execute_command" in blocking_calls_on_loop(replay_the_blocking_way, 0.2)


def test_the_memory_bus_areplay_matches_replay() -> None:
    from compymac_rx.jobs.bus import MemoryEventBus

    bus = MemoryEventBus(replay_seconds=60)
    for seq in (1, 2, 3):
        bus.publish(event(seq))
    assert [e.seq for e in on_own_loop(bus.areplay("j1", after_seq=1))] == [2, 3]


async def test_a_replay_while_redis_is_unreachable_is_an_error_not_an_empty_history(
    redis: Redis,
) -> None:
    live = RedisEventBus(redis.url, replay_seconds=60)
    live.publish(event(1))
    assert [e.seq for e in live.replay("j1")] == [1]  # the same calls answer when it is up
    gone = RedisEventBus("redis://127.0.0.1:9/0", replay_seconds=60)  # nothing listens on 9
    with pytest.raises(BusUnavailable):
        gone.replay("j1")
    with pytest.raises(BusUnavailable):
        await gone.areplay("j1")

"""User events (a user's session changes) on both buses: every subscriber gets them, live."""

from __future__ import annotations

import asyncio
import threading

import redis as redis_client
import redis.asyncio as redis_async

from compymac_rx.jobs.bus import MemoryEventBus
from compymac_rx.jobs.events import UserEvent
from compymac_rx.jobs.redis_bus import RedisEventBus, user_channel
from tests.services import Redis
from tests.waiting import await_until


def change(user_id: str, title: str) -> UserEvent:
    return UserEvent(user_id, "session", {"session": {"id": "s1", "title": title}})


async def pattern_subscribers(url: str) -> int:
    client = redis_async.Redis.from_url(url)
    try:
        return int(await client.execute_command("PUBSUB", "NUMPAT"))
    finally:
        await client.aclose()


async def test_the_memory_bus_hands_user_events_to_every_subscriber() -> None:
    bus = MemoryEventBus(replay_seconds=60)

    async def scenario() -> tuple[list[UserEvent], list[UserEvent]]:
        first, second = bus.subscribe_users(), bus.subscribe_users()
        waiting = [asyncio.ensure_future(anext(s)) for s in (first, second)]
        await asyncio.sleep(0)
        # From another thread, as a handler's off-loop work publishes.
        thread = threading.Thread(target=bus.publish_user, args=(change("u1", "A"),))
        thread.start()
        thread.join()
        got = [await asyncio.wait_for(w, 5) for w in waiting]
        bus.publish_user(change("u2", "B"))
        more = [await asyncio.wait_for(anext(s), 5) for s in (first, second)]
        await first.aclose()
        await second.aclose()
        return got, more

    got, more = await scenario()
    assert got == [change("u1", "A")] * 2
    assert more == [change("u2", "B")] * 2
    # Nothing kept: a user event is not a job's replayable event.
    assert bus.replay("") == []


def test_the_redis_bus_sends_each_user_event_on_the_users_channel(redis: Redis) -> None:
    bus = RedisEventBus(redis.url, replay_seconds=60)
    got: list[UserEvent] = []
    ready = threading.Event()

    async def listen() -> None:
        stream = bus.subscribe_users()
        task = asyncio.ensure_future(anext(stream))
        await await_until(lambda: pattern_subscribers(redis.url), timeout=10, what="psubscribe")
        ready.set()
        got.append(await asyncio.wait_for(task, 10))
        got.append(await asyncio.wait_for(anext(stream), 10))
        await stream.aclose()

    listener = threading.Thread(target=lambda: asyncio.run(listen()))
    listener.start()
    assert ready.wait(10)
    watcher = redis_client.Redis.from_url(redis.url).pubsub()
    watcher.subscribe(user_channel("u1"))
    watcher.get_message(timeout=2)  # the subscribe confirmation
    bus.publish_user(change("u1", "A"))
    bus.publish_user(change("u2", "B"))
    listener.join(15)
    assert got == [change("u1", "A"), change("u2", "B")]
    # Each user's events travel on that user's own channel.
    message = watcher.get_message(timeout=2)
    assert message is not None and UserEvent.from_json(message["data"]) == change("u1", "A")
    watcher.close()


def test_publishing_to_an_unreachable_redis_drops_the_event_without_raising(redis: Redis) -> None:
    bus = RedisEventBus(redis.url, replay_seconds=60)
    redis.stop()
    try:
        bus.publish_user(change("u1", "A"))  # the change is committed; the view catches up later
    finally:
        redis.start()

"""The Redis EventBus: a stream per job for replay, one pub/sub channel for live delivery.

Every backend process subscribes to the channel and hands each event only to the tabs it holds
(state/live.py). Nothing here blocks an event loop: `subscribe` and `areplay` use redis.asyncio;
the blocking `next_seq`, `publish` (which retries with sleeps) and `replay` are for job threads
and worker processes. A job's stream and its sequence counter expire `replay_seconds` after the last
event, so a reloading tab can catch up on a turn that is running or has just ended.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import redis
import redis.asyncio as aredis

from compymac_rx.jobs.events import BusUnavailable, JobEvent, UserEvent

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL = "compymac:events"
# One channel per user for what all of a user's tabs show (the sidebar); every backend
# process listens to the pattern and hands each event to the tabs it holds.
USER_CHANNEL_PATTERN = "compymac:user:*"
STREAM_MAXLEN = 20_000
PUBLISH_RETRY_SECONDS = 10.0
RESUBSCRIBE_DELAY = 0.2

# INCRBY, but never below `at_least`: after a Redis restart lost the counter, the publisher's
# own count keeps the numbers going up, so no tab drops the new events as copies. Returns the
# first of the `count` numbers taken.
_NEXT_SEQ = """
local count = tonumber(ARGV[3])
local last = redis.call('INCRBY', KEYS[1], count)
local floor = tonumber(ARGV[1])
if last - count + 1 < floor then
  last = floor + count - 1
  redis.call('SET', KEYS[1], last)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return last - count + 1
"""


def user_channel(user_id: str) -> str:
    return f"compymac:user:{user_id}"


def stream_key(job_id: str) -> str:
    return f"compymac:job:{job_id}:events"


def seq_key(job_id: str) -> str:
    return f"compymac:job:{job_id}:seq"


class RedisEventBus:
    def __init__(self, url: str, *, replay_seconds: int) -> None:
        self._url = url
        self._ttl = replay_seconds
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._next_seq = self._redis.register_script(_NEXT_SEQ)
        # An asyncio client belongs to the loop it first ran on: one per loop, made on demand.
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aredis.Redis]
        self._async_clients = weakref.WeakKeyDictionary()

    def _with_retry(self, what: str, fn: Callable[[], T]) -> T:
        # A Redis restart takes a moment: keep trying for a while rather than lose the event.
        deadline = time.monotonic() + PUBLISH_RETRY_SECONDS
        while True:
            try:
                return fn()
            except redis.RedisError as error:
                if time.monotonic() >= deadline:
                    raise
                log.warning("redis %s failed (%s); retrying", what, type(error).__name__)
                time.sleep(0.2)

    def next_seq(self, job_id: str, *, at_least: int, count: int = 1) -> int:
        value = self._with_retry(
            "seq",
            lambda: self._next_seq(keys=[seq_key(job_id)], args=[at_least, self._ttl, count]),
        )
        return int(str(value))

    def publish(self, *events: JobEvent) -> None:
        if not events:
            return
        raws = [event.to_json() for event in events]

        def send() -> None:
            # One round trip: each event into its job's stream, the batch as one message.
            pipe = self._redis.pipeline(transaction=True)
            for event, raw in zip(events, raws, strict=True):
                key = stream_key(event.job_id)
                pipe.xadd(key, {"e": raw}, maxlen=STREAM_MAXLEN, approximate=True)
                pipe.expire(key, self._ttl)
            pipe.publish(CHANNEL, f"[{','.join(raws)}]")
            pipe.execute()

        try:
            self._with_retry("publish", send)
        except redis.RedisError:
            # Events are a view; the database keeps the turn. The tab catches up on its next
            # event or reload.
            seqs = ", ".join(str(event.seq) for event in events)
            log.error("dropped event(s) %s of job %s: redis unreachable", seqs, events[0].job_id)

    def replay(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        try:
            entries = self._redis.xrange(stream_key(job_id))
        except redis.RedisError as error:
            raise BusUnavailable(f"no replay for job {job_id}: redis unreachable") from error
        return _events_after(entries, after_seq)  # type: ignore[arg-type]

    async def areplay(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = aredis.Redis.from_url(self._url, socket_timeout=5, socket_connect_timeout=2)
            self._async_clients[loop] = client
        try:
            entries = await client.xrange(stream_key(job_id))
        except (redis.RedisError, OSError) as error:
            raise BusUnavailable(f"no replay for job {job_id}: redis unreachable") from error
        return _events_after(entries, after_seq)

    async def subscribe(self) -> AsyncIterator[JobEvent]:
        """Live events; resubscribes by itself when Redis goes away and comes back."""
        async for data in self._listen(CHANNEL, pattern=False, what="event"):
            for event in JobEvent.batch_from_json(data):
                yield event

    async def _listen(self, channel: str, *, pattern: bool, what: str) -> AsyncIterator[Any]:
        """The data of each message on `channel` (a glob when `pattern`), forever: a lost
        connection is logged and subscribed again after RESUBSCRIBE_DELAY."""
        kind = "pmessage" if pattern else "message"
        while True:
            client = aredis.Redis.from_url(self._url, socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await (pubsub.psubscribe if pattern else pubsub.subscribe)(channel)
                async for message in pubsub.listen():
                    if message.get("type") == kind:
                        yield message["data"]
            except (redis.RedisError, OSError) as error:
                log.warning("%s subscription lost (%s); resubscribing", what, type(error).__name__)
                await asyncio.sleep(RESUBSCRIBE_DELAY)
            finally:
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
                except (redis.RedisError, OSError):
                    pass

    def publish_user(self, event: UserEvent) -> None:
        try:
            self._redis.publish(user_channel(event.user_id), event.to_json())
        except redis.RedisError as error:
            # A view of a change already committed: the tabs read the list when they reconnect.
            log.error("dropped a %s event: redis unreachable (%s)", event.kind, error)

    async def subscribe_users(self) -> AsyncIterator[UserEvent]:
        """Live user events; resubscribes by itself when Redis goes away and comes back."""
        async for data in self._listen(USER_CHANNEL_PATTERN, pattern=True, what="user event"):
            yield UserEvent.from_json(data)

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False


def _events_after(
    entries: Sequence[tuple[Any, dict[bytes, bytes]]], after_seq: int
) -> list[JobEvent]:
    """A stream's events with seq > after_seq, in order, each once."""
    seen: dict[int, JobEvent] = {}
    for _id, fields in entries:
        event = JobEvent.from_json(fields[b"e"])
        if event.seq > after_seq:
            seen.setdefault(event.seq, event)
    return [seen[seq] for seq in sorted(seen)]

"""Streaming a model reply to many tabs: token delivery lag, frames, bytes and CPU per reply.

    .venv/bin/python -m bench.stream                                   # inline, celery; 1,20,100
    .venv/bin/python -m bench.stream --profiles inline --clients 1,20 --tokens 120

The local fake OpenAI server (tests/fake_openai.py, its own process) streams every reply as
`--tokens` tokens at `--rate` tokens/s, each token `t<monotonic_ns at write>`. The app runs
with MODEL_BACKEND=openai pointed at it, so every session uses the "server" model through the
real SDK. N clients sign up and open their session tab first; then all send at once. Each
token's lag is the time from the fake writing it to the client receiving the WebSocket frame
that first carries it (same machine, same monotonic clock). Backend CPU per reply is summed
over the server's process trees (backend and, for celery, workers) with psutil.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.apps import ROOT, Running, running
from bench.chat import ChatTab, signed_in_tab
from bench.turns import pct

STAMP = re.compile(r"t(\d{12,})")


@contextmanager
def fake_model(tokens: int, rate: float) -> Iterator[str]:
    """The paced fake server in its own process (so the bench client's load cannot delay the
    stamps); yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_openai", "--stamped", str(tokens), "--rate", str(rate)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"fake model server did not start: {url!r}")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def model_env(url: str) -> dict[str, str]:
    return {
        "MODEL_BACKEND": "openai",
        "MODEL_BASE_URL": url,
        "MODEL_API_KEY": "sk-bench",
        "MODEL_NAME": "fake-small",
        "MODEL_MAX_RETRIES": "0",
        "MODEL_TIMEOUT_SECONDS": "120",
        "INLINE_JOB_WORKERS": "64",
    }


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and all their descendants, alive now."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in processes:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
    return total


@dataclass
class Reply:
    lags_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    frames: int = 0
    bytes: int = 0


async def stream_reply(tab: ChatTab, timeout: float) -> Reply:
    reply = Reply()
    newest = 0

    def seen(_delta: dict[str, Any]) -> None:
        nonlocal newest
        socket = tab.tab.socket
        fresh = []
        # Tokens arrive in emit order: scan from the end and stop at the first one seen.
        for match in reversed(STAMP.findall(socket.last_text)):
            stamp = int(match)
            if stamp <= newest:
                break
            fresh.append(stamp)
        if fresh:
            newest = fresh[0]
            reply.tokens += len(fresh)
            reply.lags_ms += [(socket.last_at - s) / 1e6 for s in fresh]

    turn = await tab.turn("stream", timeout=timeout, seen=seen)
    reply.frames, reply.bytes = turn.frames, turn.bytes
    return reply


@dataclass
class StreamRow:
    profile: str
    clients: int
    replies: list[Reply]
    expected_tokens: int
    backend_cpu: float  # seconds, over the whole run
    client_cpu: float
    wall: float

    def line(self) -> str:
        lags = [lag for r in self.replies for lag in r.lags_ms]
        n = len(self.replies) or 1
        tokens = sum(r.tokens for r in self.replies) / n
        cells = [
            f"{self.profile:6}",
            f"{self.clients:4}",
            f"{f'{tokens:.0f}/{self.expected_tokens}':>12}",
            f"{pct_ms(lags, 50):7.1f}",
            f"{pct_ms(lags, 99):7.1f}",
            f"{max(lags, default=0):7.1f}",
            f"{sum(r.frames for r in self.replies) / n:6.0f}",
            f"{sum(r.bytes for r in self.replies) / n / 1024:8.1f}",
            f"{self.backend_cpu / n * 1000:12.0f}",
            f"{self.client_cpu / n * 1000:10.0f}",
            f"{self.wall:6.1f}",
        ]
        return "| " + " | ".join(cells) + " |"


def pct_ms(values: list[float], q: float) -> float:
    return pct([v / 1000 for v in values], q)


HEAD = [
    "| system |    N | tokens/reply | lag p50 | lag p99 | lag max | frames | KB/reply "
    "| cpu ms/reply | client cpu | wall s |",
    "|--------|------|--------------|---------|---------|---------|--------|----------"
    "|--------------|------------|--------|",
]


async def run_stream(app: Running, clients: int, tokens: int, rate: float) -> StreamRow:
    tabs = await asyncio.wait_for(
        asyncio.gather(*(signed_in_tab(app.url, f"stream{i}", model="") for i in range(clients))),
        120 + 2 * clients,
    )
    me = psutil.Process()
    cpu0, mine0, began = cpu_seconds(app.pids), me.cpu_times(), time.perf_counter()
    # Worst case the turns queue behind the runner's slots; bounded anyway.
    timeout = 60 + 3 * tokens / rate * max(1, clients / 4)
    replies = await asyncio.gather(*(stream_reply(tab, timeout) for tab in tabs))
    wall = time.perf_counter() - began
    cpu1, mine1 = cpu_seconds(app.pids), me.cpu_times()
    await asyncio.gather(*(tab.close() for tab in tabs))
    client_cpu = mine1.user + mine1.system - mine0.user - mine0.system
    return StreamRow(app.kind, clients, list(replies), tokens, cpu1 - cpu0, client_cpu, wall)


async def measure(app: Running, clients: list[int], tokens: int, rate: float) -> list[StreamRow]:
    """One unrecorded reply first (the SDK's and the app's first-call costs), then each N."""
    await run_stream(app, 1, tokens, rate)
    rows = []
    for n in clients:
        row = await run_stream(app, n, tokens, rate)
        print(row.line(), flush=True)
        rows.append(row)
    return rows


def summary(rows: list[StreamRow], tokens: int, rate: float, concurrency: int) -> list[str]:
    return [
        f"stream: {tokens}-token replies at {rate:g} tokens/s, N sessions sending at once "
        "(lag = fake model write -> client frame, ms; at most 64 turns run at once inline "
        f"(INLINE_JOB_WORKERS' maximum), {2 * concurrency} on celery; client cpu = the bench's):",
        *HEAD,
        *(row.line() for row in rows),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", default="inline,celery")
    parser.add_argument("--clients", default="1,20,100")
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--rate", type=float, default=60.0)
    parser.add_argument("--celery-concurrency", type=int, default=2, help="per worker (2)")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    rows: list[StreamRow] = []
    with fake_model(args.tokens, args.rate) as url:
        for kind in args.profiles.split(","):
            with (
                tempfile.TemporaryDirectory(prefix=f"bench-stream-{kind}-") as tmp,
                running(kind, Path(tmp), model_env(url), args.celery_concurrency) as app,
            ):
                rows += asyncio.run(measure(app, clients, args.tokens, args.rate))
    print("\n".join(["", *summary(rows, args.tokens, args.rate, args.celery_concurrency)]))


if __name__ == "__main__":
    main()

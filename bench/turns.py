"""Turn latency and throughput, CompyMac beside bare Reflex and Chainlit, in one run.

    .venv/bin/python -m bench.turns                              # all profiles, N = 1, 20, 100
    .venv/bin/python -m bench.turns --profiles inline,chainlit --clients 1,20 --turns 3

Profiles (bench.apps): echo (bare Reflex), inline, celery, chainlit (stock echo app).
Each of N clients opens its own tab and sends `--turns` messages one after another (closed
loop). CompyMac clients sign up and send "help" (the builtin agent streams its guide). Printed:
p50/p95/p99 of send -> first streamed event and send -> done, turns per second, the ratios the
live-turn issue asks for, and bytes on the wire per turn at 1 and at 50 turns of history.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.apps import COMPYMAC, Running, running
from bench.chainlit_peer import ChainlitTab
from bench.chat import signed_in_tab
from bench.wire import ReflexTab, find_var

PROMPT = "help"
HISTORY = 50


@dataclass
class Samples:
    first: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    # perf_counter of each client's first send and last done. Every client opens its tab
    # first and all start sending together (a barrier): before, the first clients' turns ran
    # beside the others' sign-ups (argon2 hashing), which the throughput then counted.
    began: list[float] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)


@dataclass
class Row:
    profile: str
    clients: int
    samples: Samples
    wall: float

    @property
    def rate(self) -> float:
        return len(self.samples.done) / self.wall if self.wall else 0.0


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


async def compymac_client(
    base: str, index: int, turns: int, samples: Samples, opened: asyncio.Barrier
) -> None:
    tab = await signed_in_tab(base, f"bench{index}")
    await opened.wait()
    samples.began.append(time.perf_counter())
    for _ in range(turns):
        turn = await tab.turn(PROMPT)
        samples.first.append(turn.first)
        samples.done.append(turn.done)
    samples.ended.append(time.perf_counter())
    await tab.close()


async def echo_client(
    base: str, index: int, turns: int, samples: Samples, opened: asyncio.Barrier
) -> None:
    tab = await ReflexTab.open(base, "", "/")
    state = ""
    while not state:
        state = next((k for k in await tab.next_delta() if k.endswith("echo_state")), "")
    await opened.wait()
    samples.began.append(time.perf_counter())
    for turn in range(turns):
        text = f"{index}-{turn}"
        sent = time.perf_counter()
        await tab.emit(f"{state}.echo", {"text": text})
        while (found := find_var(await tab.next_delta(), "text")) is None or found[1] != text:
            pass
        samples.first.append(time.perf_counter() - sent)
        samples.done.append(time.perf_counter() - sent)
    samples.ended.append(time.perf_counter())
    await tab.close()


async def chainlit_client(
    base: str, index: int, turns: int, samples: Samples, opened: asyncio.Barrier
) -> None:
    tab = await ChainlitTab.open(base)
    await opened.wait()
    samples.began.append(time.perf_counter())
    for turn in range(turns):
        first, done = await tab.send(f"{index}-{turn} {PROMPT}")
        samples.first.append(first)
        samples.done.append(done)
    samples.ended.append(time.perf_counter())
    await tab.close()


CLIENTS = {"echo": echo_client, "chainlit": chainlit_client}


async def run_clients(app: Running, clients: int, turns: int, timeout: float) -> Row:
    samples, opened = Samples(), asyncio.Barrier(clients)
    client = CLIENTS.get(app.kind, compymac_client)
    await asyncio.wait_for(
        asyncio.gather(*(client(app.url, i, turns, samples, opened) for i in range(clients))),
        timeout,
    )
    return Row(app.kind, clients, samples, max(samples.ended) - min(samples.began))


@dataclass
class WireBytes:
    profile: str
    # turns of history before the turn -> (frames, bytes) received during that turn
    by_history: dict[int, tuple[int, int]]


async def history_bytes(app: Running, history: int = HISTORY) -> WireBytes:
    """One client sends `history` + 1 turns in one session; the frames and bytes it receives
    during the turn sent after 1 and after `history` turns."""
    wanted = {1, history}
    result: dict[int, tuple[int, int]] = {}
    if app.kind == "chainlit":
        peer = await ChainlitTab.open(app.url)
        for before in range(history + 1):
            frames, size = peer.socket.counters()
            await peer.send(f"{before} {PROMPT}")
            if before in wanted:
                after = peer.socket.counters()
                result[before] = (after[0] - frames, after[1] - size)
        await peer.close()
    else:
        tab = await signed_in_tab(app.url, "history")
        for before in range(history + 1):
            turn = await tab.turn(PROMPT)
            if before in wanted:
                result[before] = (turn.frames, turn.bytes)
        await tab.close()
    return WireBytes(app.kind, result)


def default_turns(clients: int) -> int:
    return 10 if clients == 1 else 3


async def measure(
    app: Running, clients: list[int], turns: int, with_bytes: bool
) -> tuple[list[Row], WireBytes | None]:
    rows = []
    for n in clients:
        count = turns or default_turns(n)
        row = await run_clients(app, n, count, timeout=300 + 5 * n * count)
        print(row_line(row), flush=True)
        rows.append(row)
    wire = None
    if with_bytes and app.kind != "echo":
        wire = await asyncio.wait_for(history_bytes(app), 900)
        print(*bytes_lines([wire]), flush=True)
    return rows, wire


# --- printing -------------------------------------------------------------------------------


def row_line(row: Row) -> str:
    f, d = row.samples.first, row.samples.done
    return (
        f"| {row.profile:8} | {row.clients:4} | {len(d):5} "
        f"| {pct(f, 50):7.1f} | {pct(f, 95):7.1f} "
        f"| {pct(d, 50):7.1f} | {pct(d, 95):7.1f} | {pct(d, 99):7.1f} | {row.rate:7.1f} |"
    )


TABLE_HEAD = [
    "| system   |    N | turns | first50 | first95 |  done50 |  done95 |  done99 | turns/s |",
    "|----------|------|-------|---------|---------|---------|---------|---------|---------|",
]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and a == a and b == b else "n/a"


def ratios(rows: list[Row]) -> list[str]:
    """The comparisons the live-turn issue sets targets for (all from this one run)."""
    by = {(r.profile, r.clients): r for r in rows}
    lines = []
    top = max((r.clients for r in rows), default=0)
    peer = by.get(("chainlit", top))
    for kind in COMPYMAC:
        mine = by.get((kind, top))
        if mine is None or peer is None:
            continue
        lines.append(
            f"{kind} vs chainlit at N={top}: turns/s {ratio(mine.rate, peer.rate)} "
            f"({mine.rate:.1f} vs {peer.rate:.1f}; target inline >= 1x, celery >= 0.5x); "
            f"done p95 {pct(mine.samples.done, 95):.0f} vs {pct(peer.samples.done, 95):.0f} ms "
            f"({ratio(pct(mine.samples.done, 95), pct(peer.samples.done, 95))})"
        )
    echo = by.get(("echo", 1))
    for kind in COMPYMAC:
        if (mine := by.get((kind, 1))) is not None and echo is not None:
            first, base = pct(mine.samples.first, 50), pct(echo.samples.done, 50)
            lines.append(
                f"{kind} first streamed event at N=1 vs bare Reflex echo round trip: "
                f"{first:.1f} vs {base:.1f} ms p50 = {ratio(first, base)} (target <= 5x)"
            )
    return lines


def bytes_lines(wires: list[WireBytes]) -> list[str]:
    lines = []
    for wire in wires:
        parts = [
            f"after {before:2} turns: {size / 1024:7.1f} KB in {frames:4} frames"
            for before, (frames, size) in sorted(wire.by_history.items())
        ]
        sizes = [size for _before, (_frames, size) in sorted(wire.by_history.items())]
        growth = ratio(float(sizes[-1]), float(sizes[0])) if len(sizes) > 1 else "n/a"
        lines.append(f"{wire.profile:8} " + "; ".join(parts) + f"  (growth {growth})")
    return lines


def summary(rows: list[Row], wires: list[WireBytes]) -> list[str]:
    out = ["turns (ms; first = first streamed event; closed loop, one tab per client):"]
    out += [*TABLE_HEAD, *(row_line(r) for r in rows)]
    if lines := ratios(rows):
        out += ["", "ratios:", *(f"  {line}" for line in lines)]
    if wires:
        out += ["", "bytes received per turn by history length (one tab, same session):"]
        out += [f"  {line}" for line in bytes_lines(wires)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", default="echo,inline,celery,chainlit")
    parser.add_argument("--clients", default="1,20,100")
    parser.add_argument("--turns", type=int, default=0, help="per client (default 10 at N=1, 3)")
    parser.add_argument("--no-bytes", action="store_true", help="skip bytes per turn")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    rows: list[Row] = []
    wires: list[WireBytes] = []
    for kind in args.profiles.split(","):
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp,
            running(kind, Path(tmp)) as app,
        ):
            got, wire = asyncio.run(measure(app, clients, args.turns, not args.no_bytes))
            rows += got
            wires += [wire] if wire else []
    print("\n".join(["", *summary(rows, wires)]))


if __name__ == "__main__":
    main()

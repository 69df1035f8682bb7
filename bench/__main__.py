"""The whole benchmark set in one run, printed side by side (`make bench`).

    .venv/bin/python -m bench                         # everything, full sizes (about 30 min)
    .venv/bin/python -m bench --quick                 # N = 1, 20; shorter stream; small scale
    .venv/bin/python -m bench --only turns --profiles inline,chainlit --clients 1,20

Sections: turns (bench.turns: echo, inline, celery, chainlit; with bytes per turn by history
length), stream (bench.stream: inline, celery against the paced fake model), scale
(bench.scale: sidebar, a long session, idle tabs; inline). Each system runs as real processes
on loopback ports, started and stopped here. `--only` and the size flags select subsets.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psutil

from bench import scale, stream, turns
from bench.apps import COMPYMAC, running

SECTIONS = ("turns", "stream", "scale")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about 10 min")
    parser.add_argument("--profiles", default="echo,inline,celery,chainlit", help="turns")
    parser.add_argument("--clients", default="", help="turns N list (default 1,20,100)")
    parser.add_argument("--turns", type=int, default=0, help="per client (10 at N=1, else 3)")
    parser.add_argument("--no-bytes", action="store_true", help="skip bytes per turn")
    parser.add_argument("--stream-profiles", default="inline,celery")
    parser.add_argument("--stream-clients", default="", help="default 1,20,100")
    parser.add_argument("--tokens", type=int, default=0, help="per reply (default 400)")
    parser.add_argument("--rate", type=float, default=60.0, help="tokens per second")
    parser.add_argument("--celery-concurrency", type=int, default=2, help="per worker (2)")
    parser.add_argument("--sessions", type=int, default=0, help="sidebar (default 1000)")
    parser.add_argument("--messages", type=int, default=0, help="long session (10000)")
    parser.add_argument("--tabs", type=int, default=0, help="idle tabs (default 1000)")
    args = parser.parse_args()
    quick = args.quick
    args.clients = args.clients or ("1,20" if quick else "1,20,100")
    args.stream_clients = args.stream_clients or ("1,20" if quick else "1,20,100")
    args.tokens = args.tokens or (120 if quick else 400)
    args.sessions = args.sessions or (200 if quick else 1000)
    args.messages = args.messages or (2000 if quick else 10_000)
    args.tabs = args.tabs or (100 if quick else 1000)
    return args


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def turns_and_scale(args: argparse.Namespace, only: set[str], kind: str, out: Results) -> None:
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp,
        running(kind, Path(tmp), worker_concurrency=args.celery_concurrency) as app,
    ):
        if "turns" in only:
            rows, wire = asyncio.run(
                turns.measure(app, numbers(args.clients), args.turns, not args.no_bytes)
            )
            out.rows += rows
            out.wires += [wire] if wire else []
        if "scale" in only and kind == "inline":
            out.scale = asyncio.run(scale.measure(app, args.sessions, args.messages, args.tabs))


def streams(args: argparse.Namespace, url: str, kind: str, out: Results) -> None:
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-stream-{kind}-") as tmp,
        running(kind, Path(tmp), stream.model_env(url), args.celery_concurrency) as app,
    ):
        out.streams += asyncio.run(
            stream.measure(app, numbers(args.stream_clients), args.tokens, args.rate)
        )


@dataclass
class Results:
    rows: list[turns.Row] = field(default_factory=list)
    wires: list[turns.WireBytes] = field(default_factory=list)
    streams: list[stream.StreamRow] = field(default_factory=list)
    scale: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def attempt(self, what: str, run: Callable[[], None]) -> None:
        """Run one system's part; a failure is printed and noted, the other systems go on."""
        try:
            run()
        except Exception as error:
            traceback.print_exc()
            self.failures.append(f"FAILED {what}: {error!r}")


def main() -> None:
    args = parse()
    only = set(args.only.split(","))
    if unknown := only - set(SECTIONS):
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    if bad := set(args.stream_profiles.split(",")) - set(COMPYMAC):
        raise SystemExit(f"stream runs on {', '.join(COMPYMAC)}, not {', '.join(bad)}")
    began = time.monotonic()
    load = " ".join(f"{x:.1f}" for x in psutil.getloadavg())
    out = [f"bench: {platform.node()}, {psutil.cpu_count()} cores, load {load} at the start"]
    results = Results()
    profiles = args.profiles.split(",") if "turns" in only else []
    if "scale" in only and "inline" not in profiles:
        profiles.append("inline")
    for kind in profiles:
        results.attempt(kind, partial(turns_and_scale, args, only, kind, results))
    if "stream" in only:
        with stream.fake_model(args.tokens, args.rate) as url:
            for kind in args.stream_profiles.split(","):
                results.attempt(f"stream {kind}", partial(streams, args, url, kind, results))
    if results.rows or results.wires:
        out += ["", *turns.summary(results.rows, results.wires)]
    if results.streams:
        concurrency = args.celery_concurrency
        out += ["", *stream.summary(results.streams, args.tokens, args.rate, concurrency)]
    if results.scale:
        out += ["", *results.scale]
    if results.failures:
        out += ["", *results.failures]
    out += ["", f"bench: done in {(time.monotonic() - began) / 60:.1f} min"]
    print("\n" + "=" * 100 + "\n" + "\n".join(out), flush=True)


if __name__ == "__main__":
    main()

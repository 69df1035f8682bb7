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


def main() -> None:
    args = parse()
    only = set(args.only.split(","))
    if unknown := only - set(SECTIONS):
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    began = time.monotonic()
    out = [
        f"bench: {platform.node()}, {psutil.cpu_count()} cores, load "
        + " ".join(f"{x:.1f}" for x in psutil.getloadavg()),
    ]
    rows: list[turns.Row] = []
    wires: list[turns.WireBytes] = []
    scale_lines: list[str] = []
    profiles = args.profiles.split(",") if "turns" in only else []
    if "scale" in only and "inline" not in profiles:
        profiles.append("inline")
    for kind in profiles:
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp,
            running(kind, Path(tmp), worker_concurrency=args.celery_concurrency) as app,
        ):
            if "turns" in only:
                got, wire = asyncio.run(
                    turns.measure(app, numbers(args.clients), args.turns, not args.no_bytes)
                )
                rows += got
                wires += [wire] if wire else []
            if "scale" in only and kind == "inline":
                scale_lines = asyncio.run(
                    scale.measure(app, args.sessions, args.messages, args.tabs)
                )
    stream_rows: list[stream.StreamRow] = []
    if "stream" in only:
        with stream.fake_model(args.tokens, args.rate) as url:
            for kind in args.stream_profiles.split(","):
                if kind not in COMPYMAC:
                    raise SystemExit(f"stream runs on {COMPYMAC}, not {kind!r}")
                with (
                    tempfile.TemporaryDirectory(prefix=f"bench-stream-{kind}-") as tmp,
                    running(kind, Path(tmp), stream.model_env(url), args.celery_concurrency) as app,
                ):
                    stream_rows += asyncio.run(
                        stream.measure(app, numbers(args.stream_clients), args.tokens, args.rate)
                    )
    if rows or wires:
        out += ["", *turns.summary(rows, wires)]
    if stream_rows:
        out += ["", *stream.summary(stream_rows, args.tokens, args.rate, args.celery_concurrency)]
    if scale_lines:
        out += ["", *scale_lines]
    out += ["", f"bench: done in {(time.monotonic() - began) / 60:.1f} min"]
    print("\n" + "=" * 100 + "\n" + "\n".join(out), flush=True)


if __name__ == "__main__":
    main()

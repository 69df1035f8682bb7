"""What one chat turn costs the app: transactions, SQL statements, bus events and CPU time.

Two builtin turns ("help" and "run echo hi"), each sent with chats.send_message and run to the
end by the inline profile's run_job, called synchronously here so that nothing else (a polling
wait, another thread) is counted. Every figure is the median over N turns.

Run: .venv/bin/python -m bench.turn_cost [--postgres] [turns [message ...]]
(--postgres: on a throwaway PostgreSQL server, as the tests start one, instead of SQLite.)

Before the live-turn rebuild (issue 8), measured the same way: "help" 9 transactions,
25 statements, 27 events, 40 ms CPU; "run echo hi" 7, 26, 9, 45 ms (the view side's reads came
on top of these).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.apps import on_chosen_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Counter:
    """Counts what the engine does: a transaction is a BEGIN, a statement a cursor execute."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.transactions = self.statements = 0

    def begin(self, *_args: Any) -> None:
        with self.lock:
            self.transactions += 1

    def statement(self, *_args: Any) -> None:
        with self.lock:
            self.statements += 1


class SyncRunner:
    """Runs a submitted job at once, on the caller's thread."""

    def submit(self, job_id: str) -> None:
        from compymac_rx.chats.turns import run_job

        run_job(job_id)

    def cancel(self, job_id: str) -> None:
        return None

    def recover(self) -> None:
        return None


def main() -> None:
    on_chosen_database(measure, "bench-turn-cost")


def measure(args: list[str], database: str) -> None:
    turns = int(args[0]) if args else 30
    data = Path(tempfile.mkdtemp(prefix="bench-turn-cost-"))
    os.environ.update(DATA_DIR=str(data), MESSAGES_PER_MINUTE="100000")
    os.environ.pop("BUILTIN_STREAM_DELAY_MS", None)  # the default install's setting
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import event

    from compymac_rx.chats import service as chats
    from compymac_rx.chats import tasks
    from compymac_rx.db import get_engine
    from compymac_rx.jobs.bus import get_bus
    from compymac_rx.jobs.models import JobStatus
    from tests.factories import make_user

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    tasks.get_runner.cache_clear()
    sync = SyncRunner()
    tasks.get_runner = lambda: sync  # type: ignore[assignment]
    import compymac_rx.chats.service as service_module

    service_module.get_runner = lambda: sync  # type: ignore[assignment]

    counter = Counter()
    engine = get_engine()
    event.listen(engine, "begin", counter.begin)
    event.listen(engine, "before_cursor_execute", counter.statement)
    bus = get_bus()
    published = [0, 0]  # events, publishes (batches)
    original_publish = bus.publish

    def counting_publish(*job_events: Any) -> None:
        published[0] += len(job_events)
        published[1] += 1
        original_publish(*job_events)

    bus.publish = counting_publish  # type: ignore[method-assign]

    user = make_user()
    print(f"per-turn cost, median of {turns} turns each (inline, {database}, builtin agent)")
    header = (
        f"{'transactions':>12} {'statements':>10} {'events':>6} {'batches':>7} "
        f"{'CPU ms':>7} {'wall ms':>7}"
    )
    print(f"  {'turn':14} {header}")
    for text in args[1:] or ("help", "run echo hi"):
        session = chats.create_session(user.id)
        rows: list[tuple[int, int, int, int, float, float]] = []
        for index in range(turns + 1):
            before = (counter.transactions, counter.statements, *published)
            cpu, wall = time.process_time(), time.perf_counter()
            job_id = chats.send_message(user.id, session.id, text)
            spent = (time.process_time() - cpu) * 1000
            took = (time.perf_counter() - wall) * 1000
            job = chats.get_job(user.id, job_id)
            assert job is not None and job.status == JobStatus.DONE.value, job
            if index:  # the first turn warms the imports and caches
                rows.append(
                    (
                        counter.transactions - before[0] - 1,  # minus the get_job check above
                        counter.statements - before[1] - 1,
                        published[0] - before[2],
                        published[1] - before[3],
                        spent,
                        took,
                    )
                )
        tx, st, ev, batches = (int(statistics.median(r[i] for r in rows)) for i in range(4))
        cpu_ms, wall_ms = (statistics.median(r[i] for r in rows) for i in (4, 5))
        print(f"  {text!r:14} {tx:12d} {st:10d} {ev:6d} {batches:7d} {cpu_ms:7.1f} {wall_ms:7.1f}")


if __name__ == "__main__":
    main()

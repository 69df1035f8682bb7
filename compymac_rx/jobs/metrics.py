"""Prometheus metrics (see /metrics).

Live-delivery figures are per backend process. Job figures come from the database at scrape
time, so they count every worker's turns once, whichever process is scraped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository
from compymac_rx.jobs.models import JobStatus

EVENTS_DELIVERED = Counter(
    "compymac_events_delivered_total", "Job events applied to connected tabs of this process."
)
DELIVERY_BATCHES = Counter(
    "compymac_delivery_batches_total",
    "State updates made to connected tabs of this process (each applies a batch of events).",
)
CONNECTED_CLIENTS = Gauge(
    "compymac_connected_clients", "Browser tabs connected to this backend process."
)
BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
WINDOW = timedelta(hours=24)
MAX_TURNS = 50_000


class JobCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        with session_scope() as db:
            counts = repository.count_by_status(db)
            durations = repository.finished_durations(db, since=utcnow() - WINDOW, limit=MAX_TURNS)
        jobs = GaugeMetricFamily(
            "compymac_jobs", "Jobs in the database, by status.", labels=["status"]
        )
        for status in JobStatus:
            jobs.add_metric([status.value], counts.get(status.value, 0))
        yield jobs
        turns = HistogramMetricFamily(
            "compymac_turn_duration_seconds",
            "Start-to-end time of turns finished in the last 24 h, by final status.",
            labels=["status"],
        )
        for final in sorted({s for s, _ in durations}):
            values = [d for s, d in durations if s == final]
            buckets = [(str(b), sum(1 for v in values if v <= b)) for b in BUCKETS]
            buckets.append(("+Inf", len(values)))
            turns.add_metric([final], buckets, sum_value=sum(values))
        yield turns


_registered = False


def register_job_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(JobCollector())
        _registered = True

"""Prometheus metrics of jobs and live delivery, kept per process (see /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TURN_SECONDS = Histogram(
    "compymac_turn_duration_seconds",
    "Wall time of agent turns, by final status.",
    ["status"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
EVENTS_DELIVERED = Counter(
    "compymac_events_delivered_total", "Job events applied to connected tabs of this process."
)
CONNECTED_CLIENTS = Gauge(
    "compymac_connected_clients", "Browser tabs connected to this backend process."
)
JOBS = Gauge("compymac_jobs", "Jobs in the database, by status.", ["status"])


def observe_turn(status: str, seconds: float) -> None:
    TURN_SECONDS.labels(status=status).observe(seconds)

"""The production profile as real processes: PostgreSQL, Redis and Celery workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, clear_caches, fresh_pg_database
from tests.services import Postgres, Redis

StartWorker = Callable[..., subprocess.Popen[bytes]]

WORKER_CMD = [
    sys.executable,
    "-m",
    "celery",
    "-A",
    "compymac_rx.worker:celery_app",
    "worker",
    "-Q",
    "compymac-turns",
    "--loglevel",
    "INFO",
    "--without-gossip",
    "--without-mingle",
]
FAST_REAPER = {
    "JOB_HEARTBEAT_SECONDS": "0.3",
    "JOB_STALE_SECONDS": "2",
    "REAPER_INTERVAL_SECONDS": "0.5",
}


@pytest.fixture
def production_env(
    postgres: Postgres, redis: Redis, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """This test's settings for the production profile; also set in this process."""
    env = {
        "DATABASE_URL": postgres.url(fresh_pg_database(postgres)),
        "REDIS_URL": redis.url,
        "EVENT_BUS": "redis",
        "JOB_RUNNER": "celery",
        "DATA_DIR": str(data_dir),
        "BUILTIN_STREAM_DELAY_MS": "0",
        **FAST_REAPER,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    return env


@pytest.fixture
def start_worker(production_env: dict[str, str], tmp_path: Path) -> Iterator[StartWorker]:
    """Starts real `celery worker` processes (each its own process group); stops them after."""
    workers: list[subprocess.Popen[bytes]] = []

    def start(name: str = "w1", concurrency: int = 2, **extra: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, **production_env, **extra}
        log = open(tmp_path / f"worker-{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [*WORKER_CMD, "-n", f"{name}@%h", "-c", str(concurrency)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        workers.append(process)
        wait_for_log(tmp_path / f"worker-{name}.log", "ready.", process)
        return process

    yield start
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in workers:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def wait_for_log(
    path: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{path.read_text(errors='replace')}")
        time.sleep(0.1)
    raise RuntimeError(f"worker not ready after {timeout} s:\n{path.read_text(errors='replace')}")

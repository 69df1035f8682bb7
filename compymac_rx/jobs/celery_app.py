"""The Celery app of the workers, configured from the app's settings.

The jobs' work is bound at the worker's start (`bind_work`, from compymac_rx/worker.py, which
`make worker` names); the web process only sends and revokes."""

from __future__ import annotations

import logging
import tempfile
import threading
import uuid
from pathlib import Path

import structlog
from celery import Celery, Task
from celery.signals import setup_logging, worker_process_init, worker_ready, worker_shutdown

from compymac_rx.jobs.reaper import reap_stale_jobs
from compymac_rx.jobs.warm import after_fork
from compymac_rx.jobs.work import Claim, JobWork
from compymac_rx.logs import configure_logging
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

TASK_NAME = "compymac.run_turn"
WAIT_COUNTDOWN = 1.0


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("compymac_rx", broker=settings.broker_url)
    limit = settings.job_time_limit_seconds
    app.conf.update(
        # A message is acknowledged only when the turn is over; a worker that dies mid-turn
        # gives it back to the broker (the job itself is idempotent by job id and step).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        # The turn stops itself at the limit (cooperatively); the hard limit is the backstop.
        task_time_limit=limit + 60,
        broker_transport_options={"visibility_timeout": limit + 120},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_default_queue="compymac-turns",
    )
    return app


celery_app = make_celery()
_bound: JobWork | None = None


def bind_work(work: JobWork) -> None:
    """What this worker's tasks run; called once, as the worker module is imported."""
    global _bound
    _bound = work


def _work() -> JobWork:
    if _bound is None:
        raise RuntimeError("no work bound: start workers with `celery -A compymac_rx.worker`")
    return _bound


@celery_app.task(name=TASK_NAME, bind=True, max_retries=None)
def run_turn_task(self: Task, job_id: str) -> str:
    # Every line the turn logs, in this process, names its job.
    with structlog.contextvars.bound_contextvars(job_id=job_id):
        claim = _work().run(job_id)
        log.info("turn task: %s", claim.value)
    if claim in (Claim.WAIT, Claim.BUSY):
        # Over the owner's running limit, or another live worker has it: look again soon.
        raise self.retry(countdown=WAIT_COUNTDOWN)
    return claim.value


_reaper_stop = threading.Event()


# Touched on every reaper pass: a container health check reads its age instead of starting a
# second Python with Celery (`celery inspect ping` costs seconds of CPU on a busy host).
ALIVE_FILE = Path(tempfile.gettempdir()) / "compymac-worker-alive"


def _reaper_loop() -> None:
    interval = get_settings().reaper_interval_seconds
    ALIVE_FILE.touch()
    while not _reaper_stop.wait(interval):
        try:
            reap_stale_jobs(resubmit=lambda job_id: submit_turn(job_id, retry=True))
        except Exception:
            log.exception("reaper pass failed")
        ALIVE_FILE.touch()


def submit_turn(job_id: str, *, retry: bool = False) -> None:
    # The job id is the task id, so a cancel can revoke it; a reaper's retry gets its own.
    task_id = f"{job_id}-retry-{uuid.uuid4().hex[:8]}" if retry else job_id
    run_turn_task.apply_async(args=(job_id,), task_id=task_id)


def warm_producer() -> None:
    """Open the web process's broker connection now, not in the first user's send."""
    with celery_app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)


def revoke_turn(job_id: str) -> None:
    celery_app.control.revoke(job_id)


@setup_logging.connect
def _logging(**_kwargs: object) -> None:
    """Celery's own logging setup is replaced by the app's (LOG_FORMAT, redaction)."""
    configure_logging(get_settings())


@worker_process_init.connect
def _warm_child(**_kwargs: object) -> None:
    """Each pool child warms up as it starts, so its first turn costs what every other does."""
    after_fork()
    # Beside the start, not in it: Celery gives a starting child 4 s (worker_proc_alive_timeout)
    # and kills it after that; a database slow to answer must not cost the child its life.
    threading.Thread(target=_warm_up_quietly, name="warm-up", daemon=True).start()


def _warm_up_quietly() -> None:
    try:
        _work().warm_up()
    except Exception:
        # A database or Redis that is down now may be back for the first turn: not fatal.
        log.warning("warming up the worker process failed", exc_info=True)


@worker_ready.connect
def _start_reaper(**_kwargs: object) -> None:
    threading.Thread(target=_reaper_loop, name="job-reaper", daemon=True).start()


@worker_shutdown.connect
def _stop_reaper(**_kwargs: object) -> None:
    _reaper_stop.set()

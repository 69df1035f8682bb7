"""The Celery workers' entry point: `celery -A compymac_rx.worker worker` (`make worker`).

The jobs package's Celery app, given the work its tasks run: chat turns."""

from __future__ import annotations

from compymac_rx.chats.tasks import TURNS
from compymac_rx.jobs.celery_app import bind_work, celery_app

bind_work(TURNS)

__all__ = ["celery_app"]

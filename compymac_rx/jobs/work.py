"""What a JobRunner runs. The jobs package knows how to queue, claim, retry and end a job; what
a job does (a chat turn, today: chats/tasks.py) is handed to the runner as a JobWork."""

from __future__ import annotations

import enum
from typing import Protocol


class Claim(enum.StrEnum):
    """What one attempt at a job came to."""

    STARTED = "started"
    GONE = "gone"  # finished, deleted, or no longer its owner's
    WAIT = "wait"  # the owner's running limit is reached
    BUSY = "busy"  # another worker runs it and is alive


class JobWork(Protocol):
    def run(self, job_id: str) -> Claim:
        """Claim the job and run it to a stored final status, or say why not."""
        ...

    def warm_up(self) -> None:
        """Pay a new process's one-off costs (connections, compiled statements) before its
        first job, not during a user's."""
        ...

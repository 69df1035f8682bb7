"""The real production stack (docker-compose.yml + compose.test.yml), once per run.

Runs only under `make compose-test` / `make test` (COMPYMAC_COMPOSE_TESTS=1), which install and
start the Docker engine first (scripts/compose.sh); elsewhere each test is skipped with that
reason. Build and start times land in tests/compose/.run/timings.json.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Generator, Iterator

import pytest

from tests.compose.stack import ROOT, RUN, SCALE, Timings, compose, timed

ENABLED = os.environ.get("COMPYMAC_COMPOSE_TESTS") == "1"
# Keep the stack after the run to look at it (then `scripts/compose.sh down`).
KEEP = os.environ.get("COMPYMAC_COMPOSE_KEEP") == "1"
# Test against a stack that is already up (no fresh volumes, no build): quicker iterations.
REUSE = os.environ.get("COMPYMAC_COMPOSE_REUSE") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if ENABLED:
        return
    skip = pytest.mark.skip(reason="compose stack tests run under `make compose-test`")
    for item in items:
        if "tests/compose/" in str(item.fspath):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test keeps what the stack logged meanwhile: later tests recreate containers (and
    their logs with them). The whole log goes to .run/, its tail into the report CI prints."""
    report: pytest.TestReport = yield
    if ENABLED and report.when == "call" and report.failed:
        since = f"{int(call.duration) + 30}s"
        logs = compose("logs", "--no-color", "--timestamps", "--since", since, check=False)
        RUN.mkdir(parents=True, exist_ok=True)
        (RUN / f"failed-{item.name}.txt").write_text(logs)
        tail = "\n".join(line[:400] for line in logs.splitlines()[-120:])
        report.sections.append(("stack logs while it ran (last 120 lines)", tail))
    return report


@pytest.fixture(scope="session")
def planted() -> list[str]:
    """Secrets the tests saw or sent (a session cookie, tokens); no log line may hold one."""
    return []


@pytest.fixture(scope="session")
def timings() -> Timings:
    return Timings()


@pytest.fixture(scope="session")
def stack(timings: Timings) -> Iterator[None]:
    ready = subprocess.run(["bash", "scripts/compose.sh", "ready"], cwd=ROOT, check=False)
    if ready.returncode == 3:
        pytest.skip("no Docker engine can be started here (scripts/compose.sh said why above)")
    ready.check_returncode()
    if not REUSE:
        compose("down", "-v", "--remove-orphans")
        # One image at a time (the app's first: the mail catcher runs the app image).
        for service in ("app", "postgres", "redis", "keycloak", "proxy"):
            timed(timings, f"build_{service}_s", "build", service)
    try:
        timed(timings, "up_to_healthy_s", "up", "-d", "--wait", *SCALE, timeout=900)
        started = time.monotonic()
        yield
        timings.record("tests_s", time.monotonic() - started)
    finally:
        RUN.mkdir(parents=True, exist_ok=True)
        (RUN / "logs.txt").write_text(compose("logs", "--no-color", "--timestamps", check=False))
        if not KEEP:
            compose("down", "-v", "--remove-orphans", check=False)

"""How long the test Keycloak takes to answer (start-dev + realm import), and a sign-in's
token round trip. Prints figures; run after `scripts/setup.sh --test`:

    .venv/bin/python bench/keycloak_start.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.keycloak_server import running_keycloak


def main(runs: int) -> None:
    starts: list[float] = []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            began = time.monotonic()
            with running_keycloak(
                Path(folder), app_url="http://localhost:3000", access_token_seconds=300
            ) as keycloak:
                ready = time.monotonic() - began
                token_started = time.monotonic()
                keycloak.admin_token()
                token_ms = (time.monotonic() - token_started) * 1000
            starts.append(ready)
            print(f"run {run + 1}: ready in {ready:.1f} s, admin token in {token_ms:.0f} ms")
    print(f"keycloak start (median of {runs}): {statistics.median(starts):.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

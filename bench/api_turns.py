"""API send -> done: N clients, each with its own account and token, send builtin turns through
`POST /api/v1/sessions/{id}/messages` and follow `GET /api/v1/jobs/{id}/events` (SSE) to the
final status. Against the real app (inline profile, `reflex run --env prod`).

Run: .venv/bin/python -m bench.api_turns [N ...]      (default: 1 50)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT = "run echo hello from the api"


async def client(base: str, secret: str, turns: int, samples: list[float]) -> None:
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as api:
        session = (await api.post("/sessions")).json()
        for _ in range(turns):
            began = time.perf_counter()
            sent = await api.post(f"/sessions/{session['id']}/messages", json={"text": TEXT})
            assert sent.status_code == 202, sent.text
            status = ""
            async with api.stream("GET", f"/jobs/{sent.json()['job']['id']}/events") as events:
                async for line in events.aiter_lines():
                    if line.startswith("data:"):
                        status = json.loads(line[5:]).get("status", status)
            assert status == "done", status
            samples.append((time.perf_counter() - began) * 1000)


async def measure(base: str, secrets: list[str], turns: int) -> tuple[list[float], float]:
    samples: list[float] = []
    began = time.perf_counter()
    await asyncio.gather(*(client(base, s, turns, samples) for s in secrets))
    return samples, time.perf_counter() - began


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [1, 50]
    from bench.apps import running
    from compymac_rx.tokens import service as tokens
    from tests.factories import make_user

    with (
        tempfile.TemporaryDirectory(prefix="bench-api-") as tmp,
        running("inline", Path(tmp)) as app,
    ):
        base = f"{app.url}/api/v1"
        print("API send -> done, builtin agent, inline profile (SQLite), one account per client")
        print(f"  {'N':>3} {'turns':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'turns/s':>7}")
        for n in counts:
            secrets = [
                tokens.create_token(make_user().id, "bench", days=1, scopes=["write"])[1]
                for _ in range(n)
            ]
            turns = 10 if n == 1 else 3
            asyncio.run(measure(base, secrets[:1], 1))  # warm up the process
            samples, took = asyncio.run(measure(base, secrets, turns))
            p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
            print(
                f"  {n:>3} {len(samples):>5} {statistics.median(samples):7.0f} {p95:7.0f} "
                f"{max(samples):7.0f} {len(samples) / took:7.1f}"
            )


if __name__ == "__main__":
    main()

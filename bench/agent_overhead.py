"""The per-turn overhead the tool loop adds, measured against the local fake provider.

A turn here is the model asking for two tools (write_file, list_files) and then answering.
Three measurements, each the median of N turns:
  raw      the openai SDK alone making the same three streamed requests (the floor);
  loop     agent.loop.run_turn with the real OpenAIBackend and Toolbox, a sink that does nothing;
  job      a whole job: chats.send_message -> inline runner -> JobSink (SQLite + event bus).
Overhead = loop - raw (the loop and tools) and job - raw (everything the app adds).

Run: .venv/bin/python -m bench.agent_overhead [turns]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_openai import FakeOpenAI, Reply  # noqa: E402

TEXT = [f"word{i} " for i in range(20)]


def script(fake: FakeOpenAI) -> None:
    fake.script(
        Reply(
            tool_calls=[
                ("write_file", {"path": "notes.md", "content": "# Notes\n" * 20}),
                ("list_files", {}),
            ]
        ),
        Reply(text=TEXT),
    )


def raw_turn(fake: FakeOpenAI, client: openai.OpenAI) -> float:
    script(fake)
    started = time.perf_counter()
    for _ in range(2):
        stream = client.chat.completions.create(
            model="fake-small", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        for _chunk in stream:
            pass
    return time.perf_counter() - started


class NullSink:
    def text_delta(self, text: str) -> None: ...
    def reasoning_delta(self, text: str) -> None: ...
    def tool_call_delta(self, delta: object) -> None: ...
    def tool_started(self, call: object) -> None: ...
    def tool_finished(self, call: object, result: object, duration_ms: int) -> None: ...
    def assistant_message(self, text: str, reasoning: str = "") -> None: ...
    def model_call_finished(self, duration_ms: int, usage: object) -> None: ...
    def cancelled(self) -> bool:
        return False


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    data = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    os.environ.update(DATA_DIR=str(data), BUILTIN_STREAM_DELAY_MS="0", MODEL_MAX_RETRIES="0")
    fake = FakeOpenAI().start()
    os.environ["PROVIDER_OPENAI_URL"] = fake.url
    from alembic import command
    from alembic.config import Config

    from compymac_rx.agent.loop import run_turn
    from compymac_rx.agent.openai_backend import OpenAIBackend
    from compymac_rx.agent.sandbox import SandboxLimits
    from compymac_rx.agent.tools import Toolbox
    from compymac_rx.agent.types import ChatItem
    from compymac_rx.chats import service as chats
    from compymac_rx.chats.tasks import get_runner
    from compymac_rx.keys import service as keys
    from compymac_rx.settings import get_settings
    from tests.factories import make_user, wait_for_job

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")

    client = openai.OpenAI(base_url=fake.url, api_key="sk-bench", max_retries=0)
    backend = OpenAIBackend(
        base_url=fake.url,
        api_key="sk-bench",
        model="fake-small",
        context_window=32768,
        max_output_tokens=1024,
        timeout_seconds=30,
        max_retries=0,
    )
    workspace = data / "ws"
    workspace.mkdir()
    toolbox = Toolbox(workspace, SandboxLimits.from_settings(get_settings()), 200_000)

    def loop_turn() -> float:
        script(fake)
        started = time.perf_counter()
        run_turn(
            backend=backend,
            toolbox=toolbox,
            history=[ChatItem("user", "hi")],
            sink=NullSink(),  # type: ignore[arg-type]
            max_steps=5,
        )
        return time.perf_counter() - started

    user = make_user()
    keys.save_key(user.id, "openai", "sk-bench-key")
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")

    def job_turn() -> float:
        script(fake)
        started = time.perf_counter()
        job = wait_for_job(user.id, chats.send_message(user.id, session.id, "hi"), timeout=60)
        assert job.status == "done", job.error
        return time.perf_counter() - started

    for warm in (lambda: raw_turn(fake, client), loop_turn, job_turn):
        warm()
    results = {
        "raw": [raw_turn(fake, client) for _ in range(turns)],
        "loop": [loop_turn() for _ in range(turns)],
        "job": [job_turn() for _ in range(turns)],
    }
    get_runner().shutdown()  # type: ignore[attr-defined]
    fake.stop()
    median = {name: statistics.median(values) * 1000 for name, values in results.items()}
    print(f"agent overhead, {turns} turns each (2 model calls + 2 tool calls per turn), median ms")
    for name, value in median.items():
        p90 = statistics.quantiles(results[name], n=10)[-1] * 1000
        print(f"  {name:5} {value:7.1f} ms   p90 {p90:7.1f} ms")
    print(f"  loop overhead over raw SDK: {median['loop'] - median['raw']:6.1f} ms per turn")
    print(f"  job overhead over raw SDK:  {median['job'] - median['raw']:6.1f} ms per turn")


if __name__ == "__main__":
    main()

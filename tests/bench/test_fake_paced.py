"""The fake model's paced mode: stamped tokens at a steady rate, through the real SDK."""

from __future__ import annotations

import re
import time

import openai

from tests.fake_openai import FakeOpenAI, Reply


def test_stamped_tokens_arrive_paced_and_carry_their_emit_time() -> None:
    fake = FakeOpenAI().start()
    try:
        fake.default_reply = Reply(stamped_tokens=12, tokens_per_second=100)
        client = openai.OpenAI(base_url=fake.url, api_key="sk-test", max_retries=0)
        started = time.monotonic_ns()
        stamps, lags = [], []
        stream = client.chat.completions.create(
            model="fake-small", messages=[{"role": "user", "content": "go"}], stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                (stamp,) = re.fullmatch(r"t(\d+) ", chunk.choices[0].delta.content).groups()
                stamps.append(int(stamp))
                lags.append(time.monotonic_ns() - int(stamp))
        assert len(stamps) == 12
        assert stamps == sorted(stamps) and stamps[0] >= started
        # 11 gaps of 10 ms on a fixed schedule; the stamps are written just before sending.
        assert (stamps[-1] - stamps[0]) / 1e6 >= 105
        assert max(lags) < 1e9
        fake.reset()
        assert fake.default_reply is None
    finally:
        fake.stop()

"""docs/api.md's Python example runs as printed (only the address and token swapped in)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.conftest import make_token
from tests.factories import make_user

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_ten_line_example_sends_a_message_and_streams_the_reply(
    api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [example] = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(example.strip().splitlines()) <= 10
    assert "http://localhost:3000/api/v1" in example and "cmx_your_token" in example
    code = example.replace("http://localhost:3000/api/v1", api_url).replace(
        "cmx_your_token", make_token(make_user().id)
    )
    exec(compile(code, str(DOC), "exec"), {})  # our own documentation
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("{'status': 'done'")
    assert any("hello" in line for line in printed[:-1])

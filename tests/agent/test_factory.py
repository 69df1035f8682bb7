"""Which backend a turn gets: the builtin agent unpaced by default, pacing only when set."""

from __future__ import annotations

import time

import pytest

from compymac_rx.agent import factory
from compymac_rx.agent.builtin import BuiltinBackend
from compymac_rx.agent.types import ChatItem, TextDelta
from compymac_rx.keys import choice
from compymac_rx.settings import get_settings
from tests.conftest import clear_caches


def test_the_builtin_agent_is_not_paced_in_a_default_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BUILTIN_STREAM_DELAY_MS", raising=False)
    clear_caches()
    assert get_settings().builtin_stream_delay_ms == 0
    assert type(factory.get_model_backend()) is BuiltinBackend


def test_pacing_is_an_explicit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILTIN_STREAM_DELAY_MS", "20")
    clear_caches()
    backend = factory.get_model_backend()
    assert isinstance(backend, factory.PacedBackend)
    started = time.monotonic()
    deltas = [e for e in backend.stream([ChatItem("user", "help")], []) if isinstance(e, TextDelta)]
    assert time.monotonic() - started >= 0.02 * len(deltas) * 0.9


def test_the_model_choice_falls_back_from_session_to_user_to_server() -> None:
    assert choice.choose("openai:a", "openai:b") == "openai:a"
    assert choice.choose("", "openai:b") == "openai:b"
    assert choice.choose("", "") == choice.BUILTIN
    assert choice.choose(choice.SERVER, "") == choice.BUILTIN  # not offered here


def test_the_server_model_is_the_default_when_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_BACKEND", "openai")
    clear_caches()
    assert choice.choose("", "") == choice.SERVER
    assert choice.choose(choice.SERVER, "openai:b") == choice.SERVER

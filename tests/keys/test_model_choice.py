"""Which backend and model a user's turn gets, given their saved keys, their default and the
server's settings (on both databases: the choice reads keys and preferences)."""

from __future__ import annotations

import pytest

from compymac_rx.agent.builtin import BuiltinBackend
from compymac_rx.agent.openai_backend import OpenAIBackend
from compymac_rx.agent.types import ModelBackend, ModelError
from compymac_rx.keys import service as keys
from compymac_rx.keys.choice import (
    BUILTIN,
    SERVER,
    backend_for_choice,
    backend_for_job,
    model_choices,
    resolve_choice,
)
from tests.conftest import clear_caches
from tests.factories import make_user
from tests.fake_openai import FakeOpenAI

USER_KEY = "sk-user-key-1234"
SERVER_KEY = "sk-server-key-5678"


@pytest.fixture(autouse=True)
def providers_point_at_the_fake(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_OPENAI_URL", fake_openai.url)
    monkeypatch.setenv("PROVIDER_OPENROUTER_URL", fake_openai.url)
    clear_caches()


def offer_the_server_model(monkeypatch: pytest.MonkeyPatch, url: str, **extra: str) -> None:
    monkeypatch.setenv("MODEL_BACKEND", "openai")
    monkeypatch.setenv("MODEL_BASE_URL", url)
    monkeypatch.setenv("MODEL_NAME", "server-model")
    monkeypatch.setenv("MODEL_API_KEY", SERVER_KEY)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    clear_caches()


def openai_target(backend: ModelBackend) -> tuple[str, str]:
    """(model, API key) an OpenAI-compatible backend calls with."""
    assert isinstance(backend, OpenAIBackend)
    return backend.model, backend._client.api_key


def test_a_new_user_gets_the_builtin_agent() -> None:
    user = make_user()
    assert resolve_choice(user.id, "") == BUILTIN
    backend, choice = backend_for_job(user.id, "")
    assert choice == BUILTIN and isinstance(backend, BuiltinBackend)
    assert model_choices(user.id) == [(BUILTIN, "Builtin agent (offline)")]


def test_a_saved_key_is_used_for_its_provider_with_the_users_key() -> None:
    user = make_user()
    keys.save_key(user.id, "openai", USER_KEY)
    assert model_choices(user.id) == [
        (BUILTIN, "Builtin agent (offline)"),
        ("openai:fake-large", "OpenAI: fake-large"),
        ("openai:fake-small", "OpenAI: fake-small"),
    ]
    backend, choice = backend_for_job(user.id, "openai:fake-small")
    assert choice == "openai:fake-small"
    assert openai_target(backend) == ("fake-small", USER_KEY)


def test_the_session_model_beats_the_users_default() -> None:
    user = make_user()
    keys.save_key(user.id, "openai", USER_KEY)
    keys.set_default_model(user.id, "openai:fake-large")
    assert resolve_choice(user.id, "") == "openai:fake-large"
    assert resolve_choice(user.id, "openai:fake-small") == "openai:fake-small"
    assert resolve_choice(user.id, BUILTIN) == BUILTIN
    backend, _choice = backend_for_job(user.id, "")
    assert openai_target(backend) == ("fake-large", USER_KEY)


def test_one_users_key_never_serves_another_user() -> None:
    alice, bob = make_user(), make_user()
    keys.save_key(alice.id, "openai", USER_KEY)
    assert openai_target(backend_for_choice(alice.id, "openai:fake-large")[0])[1] == USER_KEY
    with pytest.raises(ModelError, match="No OpenAI API key saved"):
        backend_for_choice(bob.id, "openai:fake-large")
    assert model_choices(bob.id) == [(BUILTIN, "Builtin agent (offline)")]


def test_an_unknown_provider_or_a_bare_provider_is_refused_plainly() -> None:
    user = make_user()
    for choice in ("acme:model", "openai:", "gpt-4o"):
        with pytest.raises(ModelError, match="Unknown model"):
            backend_for_choice(user.id, choice)


def test_custom_urls_stop_working_when_the_operator_turns_them_off(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOW_CUSTOM_BASE_URL", "true")
    monkeypatch.setenv("MODEL_URL_ALLOWLIST", "127.0.0.1")
    clear_caches()
    user = make_user()
    keys.save_key(user.id, "custom", USER_KEY, base_url=fake_openai.url)
    assert openai_target(backend_for_choice(user.id, "custom:fake-small")[0])[1] == USER_KEY
    monkeypatch.setenv("ALLOW_CUSTOM_BASE_URL", "false")
    clear_caches()
    with pytest.raises(ModelError, match="Custom base URLs are turned off"):
        backend_for_choice(user.id, "custom:fake-small")


def test_the_server_model_when_offered_and_its_fallback_for_a_missing_key(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    offer_the_server_model(monkeypatch, fake_openai.url)
    assert resolve_choice(user.id, "") == SERVER
    assert (SERVER, "Server: server-model") in model_choices(user.id)
    backend, choice = backend_for_job(user.id, "")
    assert choice == SERVER and openai_target(backend) == ("server-model", SERVER_KEY)
    # Without the fallback a missing key is an error; with it, the server's model answers.
    with pytest.raises(ModelError, match="No OpenRouter API key saved"):
        backend_for_choice(user.id, "openrouter:some-model")
    offer_the_server_model(monkeypatch, fake_openai.url, MODEL_SERVER_FALLBACK="true")
    backend, choice = backend_for_choice(user.id, "openrouter:some-model")
    assert choice == SERVER and openai_target(backend) == ("server-model", SERVER_KEY)


def test_a_server_choice_falls_back_to_builtin_once_the_server_model_is_withdrawn() -> None:
    user = make_user()
    keys.set_default_model(user.id, SERVER)  # saved while the operator offered it
    assert resolve_choice(user.id, "") == BUILTIN
    assert resolve_choice(user.id, SERVER) == BUILTIN

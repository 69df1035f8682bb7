"""Picks the model backend for a turn from settings and the user's saved keys.

A model choice is a string: "builtin" (the offline agent), "server" (MODEL_NAME at
MODEL_BASE_URL with the server's key; offered when MODEL_BACKEND=openai), or
"<provider>:<model>" with provider openai, openrouter or custom (the user's own key).
"" means the user's default, and failing that the server's default.
"""

from __future__ import annotations

from collections.abc import Callable

from compymac_rx.agent.factory import get_model_backend
from compymac_rx.agent.openai_backend import OpenAIBackend
from compymac_rx.agent.params import ModelParams
from compymac_rx.agent.types import ModelBackend, ModelError
from compymac_rx.keys import service as keys
from compymac_rx.keys.models import PROVIDER_LABELS
from compymac_rx.settings import get_settings

BUILTIN = "builtin"
SERVER = "server"


def server_model_offered() -> bool:
    return get_settings().model_backend == "openai"


def choose(session_model: str, default_model: str) -> str:
    """The model a turn uses: the session's, else the user's default, else the server's."""
    choice = session_model or default_model
    if choice == SERVER and not server_model_offered():
        choice = ""
    return choice or (SERVER if server_model_offered() else BUILTIN)


def resolve_choice(user_id: str, session_model: str) -> str:
    return choose(session_model, session_model or keys.get_default_model(user_id))


StopCheck = Callable[[], bool] | None


def _openai(
    base_url: str,
    api_key: str,
    model: str,
    should_stop: StopCheck,
    params: ModelParams | None,
    *,
    user_url: bool = False,
) -> OpenAIBackend:
    settings = get_settings()
    return OpenAIBackend(
        base_url=base_url,
        api_key=api_key,
        model=model,
        context_window=settings.model_context_tokens,
        max_output_tokens=settings.model_max_output_tokens,
        timeout_seconds=settings.model_timeout_seconds,
        max_retries=settings.model_max_retries,
        should_stop=should_stop,
        user_url=user_url,
        params=params,
    )


def _server_backend(should_stop: StopCheck, params: ModelParams | None) -> OpenAIBackend:
    settings = get_settings()
    return _openai(
        settings.model_base_url, settings.model_api_key, settings.model_name, should_stop, params
    )


def backend_for_job(
    user_id: str, session_model: str, should_stop: StopCheck = None
) -> tuple[ModelBackend, str]:
    """(backend, the resolved choice). Raises ModelError with a plain reason."""
    return backend_for_choice(user_id, resolve_choice(user_id, session_model), should_stop)


def backend_for_choice(
    user_id: str, choice: str, should_stop: StopCheck = None, params: ModelParams | None = None
) -> tuple[ModelBackend, str]:
    """The backend of a resolved choice (see choose), and the choice it ends up using.

    `params` (system prompt, temperature, max output tokens) go to OpenAI-compatible models;
    the offline builtin agent has no use for them."""
    if choice == BUILTIN:
        return get_model_backend(), choice
    if choice == SERVER:
        return _server_backend(should_stop, params), choice
    provider, _, model = choice.partition(":")
    if provider not in PROVIDER_LABELS or not model:
        raise ModelError(f"Unknown model {choice!r}: pick another one for this session.")
    if provider == "custom" and not get_settings().allow_custom_base_url:
        # A key saved while the operator allowed custom URLs stops working when they stop.
        raise ModelError("Custom base URLs are turned off on this server: pick another model.")
    saved = keys.key_for_job(user_id, provider)
    if saved is not None:
        backend = _openai(
            saved.base_url, saved.api_key, model, should_stop, params, user_url=saved.user_url
        )
        return backend, choice
    if get_settings().model_server_fallback and server_model_offered():
        return _server_backend(should_stop, params), SERVER
    raise ModelError(
        f"No {PROVIDER_LABELS[provider]} API key saved: add one in Settings, "
        "or pick another model for this session."
    )


def model_choices(user_id: str) -> list[tuple[str, str]]:
    """(value, label) pairs for a model picker; the key itself never appears."""
    settings = get_settings()
    choices = [(BUILTIN, "Builtin agent (offline)")]
    if server_model_offered():
        choices.append((SERVER, f"Server: {settings.model_name}"))
    for saved in keys.list_keys(user_id):
        label = PROVIDER_LABELS[saved.provider]
        choices.extend((f"{saved.provider}:{m}", f"{label}: {m}") for m in saved.models)
    return choices

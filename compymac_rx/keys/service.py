"""Bring-your-own-key rules: validate on save, encrypt at rest, show only a hint."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from compymac_rx import crypto
from compymac_rx.agent import outbound, params
from compymac_rx.agent.openai_backend import OpenAIBackend
from compymac_rx.agent.types import ModelError
from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.keys import repository
from compymac_rx.keys.models import (
    PROVIDER_LABELS,
    PROVIDERS,
    ApiKey,
    ApiKeyPublic,
    ModelPreference,
)
from compymac_rx.settings import get_settings

MAX_MODELS_KEPT = 200
MAX_KEY_CHARS = 500


class KeyRefused(Exception):
    """A refusal worth showing as it is (never contains the key)."""


@dataclasses.dataclass(frozen=True)
class ProviderKey:
    """A decrypted key for one job. Lives only in the worker's memory."""

    provider: str
    base_url: str
    api_key: str = dataclasses.field(repr=False)

    @property
    def user_url(self) -> bool:
        """The base URL is the user's own choice (vetted before every connection)."""
        return self.provider == "custom"


def _context(user_id: str, provider: str) -> str:
    # Binds the record to its owner and provider: a record copied to another row fails.
    return f"api_key:{user_id}:{provider}"


def provider_url(provider: str, base_url: str = "") -> str:
    settings = get_settings()
    if provider == "openai":
        return settings.provider_openai_url
    if provider == "openrouter":
        return settings.provider_openrouter_url
    return base_url


def hint_for(api_key: str) -> str:
    return "…" + api_key[-4:]


def _public(row: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(row.provider, row.base_url, row.hint, list(row.models), row.updated_at)


def _check_input(provider: str, api_key: str, base_url: str) -> tuple[str, str]:
    if provider not in PROVIDERS:
        raise KeyRefused("Pick a provider: OpenAI, OpenRouter or a custom base URL.")
    api_key = api_key.strip()
    if not api_key or len(api_key) > MAX_KEY_CHARS or any(c.isspace() for c in api_key):
        raise KeyRefused("Paste the whole key: one piece of text without spaces.")
    base_url = base_url.strip().rstrip("/")
    if provider == "custom":
        if not get_settings().allow_custom_base_url:
            raise KeyRefused("Custom base URLs are turned off on this server.")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise KeyRefused("A custom base URL starts with http:// or https://, e.g. …/v1.")
        try:
            outbound.check_url(base_url)
        except outbound.BlockedAddress:
            # Says what DNS says about the name (anyone can ask DNS), nothing about ports.
            raise KeyRefused(
                "That base URL points to a private, local or reserved address, which this "
                "server does not call."
            ) from None
        except outbound.ConnectFailed:
            raise KeyRefused(f"The key was not saved: {outbound.UNREACHABLE}") from None
    else:
        base_url = ""
    return api_key, base_url


def validate_key(provider: str, api_key: str, base_url: str) -> list[str]:
    """The cheap call: list the provider's models with this key. Raises ModelError."""
    settings = get_settings()
    client = OpenAIBackend(
        base_url=provider_url(provider, base_url),
        api_key=api_key,
        model="",
        context_window=settings.model_context_tokens,
        max_output_tokens=settings.model_max_output_tokens,
        timeout_seconds=min(settings.model_timeout_seconds, 15),
        max_retries=0,
        user_url=provider == "custom",
    )
    return client.list_models()[:MAX_MODELS_KEPT]


def save_key(user_id: str, provider: str, api_key: str, base_url: str = "") -> ApiKeyPublic:
    """Validate, then add or replace the user's key for this provider.

    A key the provider rejects is not stored (KeyRefused with the provider's plain reason).
    """
    api_key, base_url = _check_input(provider, api_key, base_url)
    try:
        models = validate_key(provider, api_key, base_url)
    except ModelError as error:
        raise KeyRefused(f"The key was not saved: {error}") from None
    record = crypto.encrypt(api_key, context=_context(user_id, provider))
    key_id = record.split(".")[1]
    now = utcnow()
    with session_scope() as db:
        row = repository.get_key(db, user_id=user_id, provider=provider)
        action = "key.replace" if row is not None else "key.add"
        if row is None:
            row = ApiKey(user_id=user_id, provider=provider, secret=record, key_id=key_id, hint="")
            row.created_at = now
        row.secret, row.key_id, row.hint = record, key_id, hint_for(api_key)
        row.base_url, row.models, row.updated_at = base_url, models, now
        db.add(row)
        db.flush()
        # The provider and the hint (last four characters) only: never the key.
        audit.own(
            action,
            user_id,
            target=f"api-key:{provider}",
            detail={"provider": provider, "hint": row.hint},
            db=db,
        )
        return _public(row)


def list_keys(user_id: str) -> list[ApiKeyPublic]:
    with session_scope() as db:
        return [_public(row) for row in repository.list_keys(db, user_id=user_id)]


def delete_key(user_id: str, provider: str) -> bool:
    with session_scope() as db:
        deleted = repository.delete_key(db, user_id=user_id, provider=provider)
        if deleted:
            audit.own(
                "key.delete",
                user_id,
                target=f"api-key:{provider}",
                detail={"provider": provider},
                db=db,
            )
        return deleted


def key_for_job(user_id: str, provider: str) -> ProviderKey | None:
    """The decrypted key, for the worker that runs this user's job; None when none is saved."""
    with session_scope() as db:
        row = repository.get_key(db, user_id=user_id, provider=provider)
        if row is None:
            return None
        secret, base_url = row.secret, row.base_url
    try:
        plain = crypto.decrypt(secret, context=_context(user_id, provider))
    except crypto.CryptoError:
        # Sealed under a master key since removed from SECRET_KEYS (rotation skipped).
        raise ModelError(
            f"Your saved {PROVIDER_LABELS.get(provider, provider)} key can no longer be read "
            "on this server: enter it again in Settings."
        ) from None
    return ProviderKey(provider, provider_url(provider, base_url), plain)


def get_default_model(user_id: str) -> str:
    with session_scope() as db:
        row = repository.get_preference(db, user_id=user_id)
        return row.default_model if row else ""


def set_default_model(user_id: str, choice: str) -> None:
    with session_scope() as db:
        row = repository.get_preference(db, user_id=user_id) or ModelPreference(user_id=user_id)
        row.default_model = choice
        db.add(row)


def get_system_prompt(user_id: str) -> str:
    """The user's default system prompt ("" = the app's own)."""
    with session_scope() as db:
        row = repository.get_preference(db, user_id=user_id)
        return row.system_prompt if row else ""


def set_system_prompt(user_id: str, text: str) -> str:
    """Check and store the user's default system prompt; ParamsRefused with a plain reason."""
    cleaned = params.clean_prompt(text)
    with session_scope() as db:
        row = repository.get_preference(db, user_id=user_id) or ModelPreference(user_id=user_id)
        row.system_prompt = cleaned
        db.add(row)
    return cleaned


def rotate_all(batch: int = 100) -> tuple[int, int]:
    """Re-encrypt every key not under the current master key: (re-encrypted, unreadable).

    An unreadable key (sealed under a key no longer listed, or altered) is left as it is:
    the worker reports it to its owner as a key to enter again."""
    current = crypto.keyring()[0][0]
    done, unreadable = 0, set[str]()
    while True:
        with session_scope() as db:
            rows = repository.keys_for_rotation(
                db, current_key_id=current, limit=batch, skip=unreadable
            )
            for row in rows:
                context = _context(row.user_id, row.provider)
                try:
                    plain = crypto.decrypt(row.secret, context=context)
                except crypto.CryptoError:
                    unreadable.add(row.id)
                    continue
                row.secret, row.key_id = crypto.encrypt(plain, context=context), current
                db.add(row)
                done += 1
        if len(rows) < batch:
            return done, len(unreadable)

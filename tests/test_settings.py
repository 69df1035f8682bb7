from __future__ import annotations

from pathlib import Path

import pytest

from compymac_rx.settings import SettingsError, load_settings


def test_defaults_are_the_embedded_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATA_DIR")
    settings = load_settings()
    assert settings.database_url == "sqlite:///data/compymac.db"
    assert settings.workspaces_root == Path("data/workspaces")
    assert (settings.identity_provider, settings.job_runner, settings.event_bus) == (
        "local",
        "inline",
        "memory",
    )
    assert settings.secure_cookies is False


def test_https_public_url_makes_cookies_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://rx.example.com")
    assert load_settings().secure_cookies is True


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "not-a-port"), ("IDENTITY_PROVIDER", "ldap"), ("SESSION_TTL_HOURS", "0")],
)
def test_a_bad_value_stops_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "\n" not in message and name in message


def test_settings_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("MAX_TITLE_CHARS=42\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().max_title_chars == 42


def test_model_settings_are_validated_without_echoing_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODEL_MAX_OUTPUT_TOKENS", "40000")
    with pytest.raises(SettingsError, match="MODEL_MAX_OUTPUT_TOKENS must be below"):
        load_settings()
    monkeypatch.delenv("MODEL_MAX_OUTPUT_TOKENS")
    monkeypatch.setenv("MODEL_BACKEND", "anthropic")
    with pytest.raises(SettingsError, match="MODEL_BACKEND"):
        load_settings()
    monkeypatch.setenv("MODEL_BACKEND", "openai")
    monkeypatch.setenv("MODEL_API_KEY", "sk-server-secret")
    monkeypatch.setenv("MODEL_BASE_URL", "not a url sk-server-secret")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "MODEL_BASE_URL" in str(error.value)
    monkeypatch.setenv("MODEL_BASE_URL", "http://127.0.0.1:11434/v1")
    assert load_settings().model_backend == "openai"


def test_the_production_profile_is_chosen_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "JOB_RUNNER": "celery",
        "EVENT_BUS": "redis",
        "RATE_LIMIT_STORE": "redis",
        "REDIS_URL": "redis://cache:6379/0",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (settings.job_runner, settings.event_bus, settings.rate_limit_store) == (
        "celery",
        "redis",
        "redis",
    )
    assert settings.broker_url == "redis://cache:6379/0"
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://broker:6379/2")
    assert load_settings().broker_url == "redis://broker:6379/2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JOB_STALE_SECONDS": "5", "JOB_HEARTBEAT_SECONDS": "5"}, "twice JOB_HEARTBEAT_SECONDS"),
        ({"CELERY_BROKER_URL": "amqp://rabbit"}, "CELERY_BROKER_URL"),
        ({"REDIS_URL": "http://nope"}, "REDIS_URL"),
        ({"JOBS_PER_USER": "0"}, "JOBS_PER_USER"),
    ],
)
def test_bad_production_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()

"""Bring-your-own keys: validated on save, encrypted at rest, rotated, never shown or logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from compymac_rx import crypto, db
from compymac_rx.agent.types import ModelError
from compymac_rx.keys import service as keys
from compymac_rx.ops import rotate
from tests.conftest import clear_caches
from tests.factories import make_user
from tests.fake_openai import FakeOpenAI

PLANTED = "sk-PLANTED-secret-value-9f3e"


@pytest.fixture(autouse=True)
def providers_point_at_the_fake(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_OPENAI_URL", fake_openai.url)
    monkeypatch.setenv("PROVIDER_OPENROUTER_URL", fake_openai.url)
    # Custom base URLs are off by default and may not reach loopback; these tests use the
    # local fake as a custom provider (tests/security/test_ssrf.py covers the refusals).
    monkeypatch.setenv("ALLOW_CUSTOM_BASE_URL", "true")
    monkeypatch.setenv("MODEL_URL_ALLOWLIST", "127.0.0.1")
    clear_caches()


def db_dump(data_dir: Path) -> str:
    """Every row of every table, as text, on either database (`data_dir` for the call sites:
    it is where the SQLite file lives; PostgreSQL is read through the app's engine)."""
    engine = db.get_engine()
    with engine.connect() as connection:
        return "\n".join(
            f"{table}: {tuple(row)}"
            for table in sa.inspect(connection).get_table_names()
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"'))
        )


def test_save_validates_and_keeps_only_a_hint(fake_openai: FakeOpenAI, data_dir: Path) -> None:
    user = make_user()
    saved = keys.save_key(user.id, "openai", PLANTED)
    assert saved.hint == "…9f3e"
    assert saved.models == ["fake-large", "fake-small"]
    assert fake_openai.requests[-1].path.endswith("/models")
    assert fake_openai.requests[-1].authorization == f"Bearer {PLANTED}"
    [listed] = keys.list_keys(user.id)
    assert PLANTED not in repr(listed)
    assert PLANTED not in db_dump(data_dir)
    assert "PLANTED" not in db_dump(data_dir)
    job_key = keys.key_for_job(user.id, "openai")
    assert job_key is not None and job_key.api_key == PLANTED
    assert PLANTED not in repr(job_key)


def test_a_rejected_key_is_not_stored(data_dir: Path) -> None:
    user = make_user()
    with pytest.raises(keys.KeyRefused, match="rejected the API key"):
        keys.save_key(user.id, "openai", "bad-key-1234")
    assert keys.list_keys(user.id) == []


def test_input_is_checked_before_any_call(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    with pytest.raises(keys.KeyRefused, match="Pick a provider"):
        keys.save_key(user.id, "acme", PLANTED)
    with pytest.raises(keys.KeyRefused, match="without spaces"):
        keys.save_key(user.id, "openai", "sk two parts")
    with pytest.raises(keys.KeyRefused, match="http"):
        keys.save_key(user.id, "custom", PLANTED, base_url="file:///etc")
    assert fake_openai.requests == []


def test_custom_base_url_replace_and_delete(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    keys.save_key(user.id, "custom", "sk-first-aaaa", base_url=fake_openai.url + "/")
    keys.save_key(user.id, "custom", "sk-second-bbbb", base_url=fake_openai.url)
    [only] = keys.list_keys(user.id)
    assert (only.hint, only.base_url) == ("…bbbb", fake_openai.url)
    assert keys.delete_key(user.id, "custom")
    assert keys.list_keys(user.id) == []
    assert keys.key_for_job(user.id, "custom") is None


def test_keys_are_per_user() -> None:
    alice, bob = make_user(), make_user()
    keys.save_key(alice.id, "openai", PLANTED)
    assert keys.list_keys(bob.id) == []
    assert keys.key_for_job(bob.id, "openai") is None
    assert not keys.delete_key(bob.id, "openai")
    # The control: the key is there for its owner, and hers to delete.
    alices = keys.key_for_job(alice.id, "openai")
    assert alices is not None and alices.api_key == PLANTED
    assert keys.delete_key(alice.id, "openai")


def test_rotation_re_encrypts_everything(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = crypto.new_key_spec("old1")
    monkeypatch.setenv("SECRET_KEYS", old)
    clear_caches()
    users = [make_user() for _ in range(3)]
    for user in users:
        keys.save_key(user.id, "openrouter", PLANTED + user.id[:4])
    before = db_dump(data_dir)
    assert before.count("v1.old1.") == 3
    new = crypto.new_key_spec("new2")
    monkeypatch.setenv("SECRET_KEYS", f"{new},{old}")
    clear_caches()
    rotate.main()
    assert "under key id 'new2': re-encrypted 3 API key(s)" in capsys.readouterr().out
    after = db_dump(data_dir)
    assert "v1.old1." not in after and after.count("v1.new2.") == 3
    # The old key can go: every record decrypts under the new one alone.
    monkeypatch.setenv("SECRET_KEYS", new)
    clear_caches()
    for user in users:
        job_key = keys.key_for_job(user.id, "openrouter")
        assert job_key is not None and job_key.api_key == PLANTED + user.id[:4]
    rotate.main()
    assert "re-encrypted 0 API key(s)" in capsys.readouterr().out


def test_a_key_no_listed_master_key_opens_is_reported_plainly(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEYS", crypto.new_key_spec("old1"))
    clear_caches()
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    monkeypatch.setenv("SECRET_KEYS", crypto.new_key_spec("new2"))  # old key dropped early
    clear_caches()
    with pytest.raises(ModelError, match="can no longer be read on this server"):
        keys.key_for_job(user.id, "openai")
    assert rotate.rotate_all() == (0, 1)  # reported, left for its owner to replace


def test_a_planted_key_never_reaches_the_logs(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    with pytest.raises(keys.KeyRefused):
        keys.save_key(user.id, "openrouter", "bad-" + PLANTED)
    assert caplog.records, "debug logging captured nothing: the test would prove nothing"
    assert PLANTED not in caplog.text

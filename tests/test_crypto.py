from __future__ import annotations

from pathlib import Path

import pytest

from compymac_rx import crypto
from compymac_rx.settings import SettingsError, load_settings
from tests.conftest import clear_caches


def test_round_trip_and_no_plaintext() -> None:
    record = crypto.encrypt("sk-very-secret", context="api_key:u1")
    assert "sk-very-secret" not in record
    assert crypto.decrypt(record, context="api_key:u1") == "sk-very-secret"


def test_a_record_is_bound_to_its_context() -> None:
    record = crypto.encrypt("secret", context="api_key:alice")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(record, context="api_key:bob")


def test_tampering_is_detected() -> None:
    record = crypto.encrypt("secret", context="c")
    head, sealed = record.rsplit(".", 1)
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(f"{head}.{flipped}", context="c")


def test_the_embedded_key_is_made_once_and_kept(data_dir: Path) -> None:
    record = crypto.encrypt("kept", context="c")
    key_file = data_dir / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    clear_caches()
    assert crypto.decrypt(record, context="c") == "kept"


def test_a_new_current_key_still_reads_old_records(monkeypatch: pytest.MonkeyPatch) -> None:
    old = crypto.new_key_spec("old")
    monkeypatch.setenv("SECRET_KEYS", old)
    clear_caches()
    record = crypto.encrypt("rotate me", context="c")
    monkeypatch.setenv("SECRET_KEYS", f"{crypto.new_key_spec('new')},{old}")
    clear_caches()
    assert crypto.needs_rotation(record)
    assert crypto.decrypt(record, context="c") == "rotate me"
    assert not crypto.needs_rotation(crypto.encrypt("fresh", context="c"))


def test_production_refuses_to_start_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="SECRET_KEYS is required"):
        load_settings()
    monkeypatch.setenv("SECRET_KEYS", "k1:tooshort")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "tooshort" not in str(error.value)

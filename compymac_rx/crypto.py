"""Secrets at rest: AES-GCM under a master key from settings, with a key id per record.

A record reads `v1.<key id>.<nonce>.<ciphertext>` (base64url parts). The first key of
SECRET_KEYS encrypts; every listed key decrypts, so a new key can be put in front and old
records re-encrypted at leisure (see `needs_rotation`).
"""

from __future__ import annotations

import base64
import functools
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from compymac_rx.settings import get_settings, parse_secret_keys

VERSION = "v1"


class CryptoError(Exception):
    """A record that cannot be decrypted: wrong key, unknown key id, or tampered."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key_spec(kid: str = "k1") -> str:
    return f"{kid}:{_b64(secrets.token_bytes(32))}"


@functools.cache
def keyring() -> list[tuple[str, bytes]]:
    settings = get_settings()
    if settings.secret_keys:
        return parse_secret_keys(settings.secret_keys)
    # Embedded profile only (production refuses to start without SECRET_KEYS): a key made
    # once and kept beside the database, so encrypted data survives restarts.
    path = settings.data_dir / "secret.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_spec("local1"))
    return parse_secret_keys(path.read_text().strip())


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt; `context` (e.g. "api_key:<user id>") is bound as associated data."""
    kid, key = keyring()[0]
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return ".".join((VERSION, kid, _b64(nonce), _b64(sealed)))


def decrypt(record: str, *, context: str) -> str:
    try:
        version, kid, nonce, sealed = record.split(".")
    except ValueError:
        raise CryptoError("not an encrypted record") from None
    key = dict(keyring()).get(kid)
    if version != VERSION or key is None:
        raise CryptoError(f"no key {kid!r} to decrypt with")
    try:
        return AESGCM(key).decrypt(_unb64(nonce), _unb64(sealed), context.encode()).decode()
    except Exception:
        raise CryptoError("the record was tampered with or belongs elsewhere") from None


def needs_rotation(record: str) -> bool:
    """True when the record is not under the current key."""
    parts = record.split(".")
    return len(parts) != 4 or parts[1] != keyring()[0][0]

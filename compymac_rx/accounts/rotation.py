"""Re-encrypt the issuer's tokens (per sign-in session) and the code verifiers of sign-ins in
flight under the current master key: `make rotate-keys` runs this beside the API keys.

A record no key in SECRET_KEYS opens any more cannot be carried over: its session is ended
(the person signs in again) and its tokens dropped; a flow is dropped (that sign-in restarts).
"""

from __future__ import annotations

import dataclasses

from compymac_rx import crypto
from compymac_rx.accounts import repository
from compymac_rx.accounts.models import AuthSession
from compymac_rx.accounts.service import token_context
from compymac_rx.db import session_scope, utcnow


@dataclasses.dataclass
class Rotated:
    reencrypted: int = 0
    ended: int = 0


def _current_prefix() -> str:
    return f"{crypto.VERSION}.{crypto.keyring()[0][0]}."


def _reseal(record: str | None, context: str, prefix: str) -> str | None:
    if record is None or record.startswith(prefix):
        return record
    return crypto.encrypt(crypto.decrypt(record, context=context), context=context)


def _rotate_session(row: AuthSession, prefix: str, result: Rotated) -> None:
    try:
        refresh = _reseal(row.refresh_token_enc, token_context("refresh", row.id), prefix)
        id_token = _reseal(row.id_token_enc, token_context("id", row.id), prefix)
    except crypto.CryptoError:
        row.refresh_token_enc = row.id_token_enc = None
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            result.ended += 1
        return
    row.refresh_token_enc, row.id_token_enc = refresh, id_token
    result.reencrypted += 1


def rotate_issuer_tokens(batch: int = 100) -> Rotated:
    prefix, result = _current_prefix(), Rotated()
    while True:
        with session_scope() as db:
            rows = repository.sessions_for_rotation(db, prefix=prefix, limit=batch)
            for row in rows:
                _rotate_session(row, prefix, result)
                db.add(row)
        if len(rows) < batch:
            break
    while True:
        with session_scope() as db:
            flows = repository.flows_for_rotation(db, prefix=prefix, limit=batch)
            for flow in flows:
                try:
                    flow.code_verifier_enc = (
                        _reseal(flow.code_verifier_enc, f"oidc-flow:{flow.id}", prefix) or ""
                    )
                    db.add(flow)
                except crypto.CryptoError:
                    db.delete(flow)
        if len(flows) < batch:
            return result

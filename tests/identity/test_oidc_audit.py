"""Issuer sign-ins leave audit events too: ok, refused at the callback, and sessions the issuer
ends (a refused refresh)."""

from __future__ import annotations

from sqlmodel import select
from starlette.testclient import TestClient

from compymac_rx.audit.models import AuditEvent
from compymac_rx.db import session_scope
from compymac_rx.identity.factory import get_identity_provider
from tests.identity.oidc_issuer import FakeIssuerState
from tests.identity.test_oidc import (  # noqa: F401  (fixtures)
    USER_CLAIMS,
    _expire_access,
    client,
    idp,
    sign_in,
    start,
)


def events() -> list[tuple[str, str, str]]:
    with session_scope() as db:
        rows = db.exec(select(AuditEvent).order_by(AuditEvent.at)).all()  # type: ignore[arg-type]
        return [(r.action, r.outcome, str(r.detail.get("reason", ""))) for r in rows]


def test_issuer_sign_in_failure_and_ending_are_audited(
    client: TestClient,  # noqa: F811
    idp: FakeIssuerState,  # noqa: F811
) -> None:
    _, token = sign_in(client, idp, **USER_CLAIMS)
    assert token is not None
    assert events() == [("signin", "ok", "")]
    _, refused = sign_in(client, idp, realm_access={"roles": []})
    assert refused is None
    assert events()[-1] == ("signin", "failed", "role")
    _expire_access(token)
    idp.token_status, idp.token_answer = 400, {"error": "invalid_grant"}
    assert get_identity_provider().current_user(token) is None
    assert events()[-1] == ("session.end", "ok", "issuer")
    dump = repr(events())
    assert token not in dump

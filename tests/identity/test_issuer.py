"""ID and logout tokens the app must refuse, signed for real by a small local issuer."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from joserfc.jwk import OctKey, RSAKey

from compymac_rx.identity import issuer as issuer_module
from compymac_rx.identity.issuer import BACKCHANNEL_EVENT, Issuer, TokenError
from tests.identity.oidc_issuer import CLIENT_ID, FakeIssuerState, fake_issuer


@pytest.fixture
def idp() -> Iterator[FakeIssuerState]:
    with fake_issuer() as state:
        yield state


@pytest.fixture
def verifier(idp: FakeIssuerState) -> Issuer:
    return Issuer(idp.url, CLIENT_ID, timeout=5)


def test_a_good_token_is_accepted(idp: FakeIssuerState, verifier: Issuer) -> None:
    claims = verifier.verify_id_token(idp.sign(idp.id_claims()), nonce="n-1")
    assert claims["sub"] == "subject-1"
    assert claims["email"] == "person@example.com"


def test_a_tampered_token_is_refused(idp: FakeIssuerState, verifier: Issuer) -> None:
    header, _payload, signature = idp.sign(idp.id_claims()).split(".")
    forged = idp.id_claims(sub="admin-subject")
    payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="signature"):
        verifier.verify_id_token(f"{header}.{payload}.{signature}", nonce="n-1")


def test_a_token_signed_by_another_key_is_refused(idp: FakeIssuerState, verifier: Issuer) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
    with pytest.raises(TokenError):
        verifier.verify_id_token(idp.sign(idp.id_claims(), key=stranger), nonce="n-1")


def test_an_expired_token_is_refused(idp: FakeIssuerState, verifier: Issuer) -> None:
    old = int(time.time()) - 3600
    with pytest.raises(TokenError, match="claims"):
        verifier.verify_id_token(idp.sign(idp.id_claims(iat=old, exp=old + 300)), nonce="n-1")


def test_a_token_for_another_audience_is_refused(idp: FakeIssuerState, verifier: Issuer) -> None:
    with pytest.raises(TokenError, match="claims"):
        verifier.verify_id_token(idp.sign(idp.id_claims(aud="another-app")), nonce="n-1")


def test_several_audiences_need_azp_to_be_us(idp: FakeIssuerState, verifier: Issuer) -> None:
    token = idp.sign(idp.id_claims(aud=[CLIENT_ID, "other"], azp="other"))
    with pytest.raises(TokenError, match="azp"):
        verifier.verify_id_token(token, nonce="n-1")


def test_a_token_from_another_issuer_is_refused(idp: FakeIssuerState, verifier: Issuer) -> None:
    with pytest.raises(TokenError, match="claims"):
        verifier.verify_id_token(idp.sign(idp.id_claims(iss="https://evil.example")), nonce="n-1")


def test_a_token_with_another_nonce_is_refused(idp: FakeIssuerState, verifier: Issuer) -> None:
    with pytest.raises(TokenError, match="nonce"):
        verifier.verify_id_token(idp.sign(idp.id_claims(nonce="n-old")), nonce="n-1")
    with pytest.raises(TokenError, match="nonce"):
        verifier.verify_id_token(idp.sign(idp.id_claims(nonce=None)), nonce="n-1")


def test_unsigned_and_symmetric_tokens_are_refused(idp: FakeIssuerState, verifier: Issuer) -> None:
    claims = idp.id_claims()
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="algorithm"):
        verifier.verify_id_token(f"{header}.{body}.", nonce="n-1")
    secret = OctKey.generate_key(256)
    from joserfc import jwt

    hs = jwt.encode({"alg": "HS256"}, claims, secret)
    with pytest.raises(TokenError, match="algorithm"):
        verifier.verify_id_token(hs, nonce="n-1")


def test_unknown_kid_refetches_the_jwks_once_keys_rotate(
    idp: FakeIssuerState, verifier: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier.verify_id_token(idp.sign(idp.id_claims()), nonce="n-1")
    verifier.verify_id_token(idp.sign(idp.id_claims()), nonce="n-1")
    assert idp.jwks_fetches == 1  # cached
    rotated = RSAKey.generate_key(2048, parameters={"kid": "key-2"})
    idp.keys.append(rotated)
    # Within the refetch pause an unknown kid is refused without asking the issuer again.
    with pytest.raises(TokenError):
        verifier.verify_id_token(idp.sign(idp.id_claims(), key=rotated), nonce="n-1")
    assert idp.jwks_fetches == 1
    monkeypatch.setattr(issuer_module, "JWKS_REFETCH_SECONDS", 0.0)
    verifier.verify_id_token(idp.sign(idp.id_claims(), key=rotated), nonce="n-1")
    assert idp.jwks_fetches == 2


def test_discovery_must_name_the_configured_issuer(idp: FakeIssuerState) -> None:
    with pytest.raises(TokenError, match="discovery"):
        Issuer(f"{idp.url}/", CLIENT_ID, timeout=5).metadata()


def _logout_claims(idp: FakeIssuerState, **overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "iss": idp.url,
        "aud": CLIENT_ID,
        "iat": int(time.time()),
        "exp": int(time.time()) + 120,
        "jti": "logout-1",
        "sub": "subject-1",
        "sid": "kc-session-1",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_logout_tokens_are_checked(idp: FakeIssuerState, verifier: Issuer) -> None:
    assert verifier.verify_logout_token(idp.sign(_logout_claims(idp)))["sid"] == "kc-session-1"
    for bad in (
        _logout_claims(idp, events=None),
        _logout_claims(idp, events={"other": {}}),
        _logout_claims(idp, nonce="n"),
        _logout_claims(idp, sub=None, sid=None),
        _logout_claims(idp, aud="another-app"),
        _logout_claims(idp, iss="https://evil.example"),
    ):
        with pytest.raises(TokenError):
            verifier.verify_logout_token(idp.sign(bad))

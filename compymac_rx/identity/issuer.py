"""An OIDC issuer: its discovery document, its signing keys, and checks of the JWTs it signs."""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

# Asymmetric only: "none" and HS* (keyed with a secret the client also knows) are refused.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# An unknown `kid` refetches the JWKS (key rotation), but not more often than this, so
# tokens with made-up key ids cannot make us hammer the issuer.
JWKS_REFETCH_SECONDS = 10.0
LEEWAY_SECONDS = 30


class TokenError(Exception):
    """A token we refuse: the message says why (for logs and tests, never for the browser)."""


@dataclass(frozen=True)
class IssuerMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


class Issuer:
    """Discovery and keys are fetched lazily, cached, and shared by every request."""

    def __init__(self, issuer: str, client_id: str, *, timeout: float) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.timeout = timeout
        self._lock = threading.Lock()
        self._metadata: IssuerMetadata | None = None
        self._keys: KeySet | None = None
        self._keys_fetched_at = 0.0

    def _get_json(self, url: str) -> dict[str, Any]:
        response = httpx.get(url, timeout=self.timeout, follow_redirects=False)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise TokenError(f"{url} did not answer with a JSON object")
        return data

    def metadata(self) -> IssuerMetadata:
        with self._lock:
            if self._metadata is None:
                doc = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                # The document must name the issuer we were configured with (OIDC Discovery 4.3).
                if doc.get("issuer") != self.issuer:
                    raise TokenError(f"discovery names issuer {doc.get('issuer')!r}")
                self._metadata = IssuerMetadata(
                    issuer=doc["issuer"],
                    authorization_endpoint=doc["authorization_endpoint"],
                    token_endpoint=doc["token_endpoint"],
                    jwks_uri=doc["jwks_uri"],
                    end_session_endpoint=doc.get("end_session_endpoint"),
                )
            return self._metadata

    def _key_set(self, kid: str | None) -> KeySet:
        with self._lock:
            keys = self._keys
            known = keys is not None and (kid is None or any(k.kid == kid for k in keys.keys))
            may_refetch = time.monotonic() - self._keys_fetched_at > JWKS_REFETCH_SECONDS
        if keys is None or (not known and may_refetch):
            keys = KeySet.import_key_set(self._get_json(self.metadata().jwks_uri))  # type: ignore[arg-type]
            with self._lock:
                self._keys, self._keys_fetched_at = keys, time.monotonic()
        return keys

    def _decode(self, raw: str) -> dict[str, Any]:
        try:
            header = json.loads(_unb64(raw.split(".")[0]))
        except (ValueError, IndexError):
            raise TokenError("not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenError(f"algorithm {header.get('alg')!r} is not accepted")
        keys = self._key_set(header.get("kid"))
        try:
            token = jwt.decode(raw, keys, algorithms=ALGORITHMS)
        except (JoseError, ValueError) as error:
            raise TokenError(f"bad signature or key: {error.__class__.__name__}") from None
        return dict(token.claims)

    def _check(self, claims: dict[str, Any], *, essential: tuple[str, ...]) -> None:
        options: dict[str, ClaimsOption] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
        }
        options.update({name: {"essential": True} for name in essential})
        registry = JWTClaimsRegistry(leeway=LEEWAY_SECONDS, **options)  # type: ignore[arg-type]
        try:
            registry.validate(claims)
        except JoseError as error:
            raise TokenError(f"claims refused: {error}") from None
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise TokenError("several audiences and azp is not this client")

    def verify_id_token(self, raw: str, *, nonce: str | None) -> dict[str, Any]:
        """Signature, iss, aud, exp, iat; and the nonce we sent (None: a refreshed token)."""
        claims = self._decode(raw)
        self._check(claims, essential=("exp", "iat", "sub"))
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise TokenError("nonce does not match this sign-in")
        return claims

    def verify_logout_token(self, raw: str) -> dict[str, Any]:
        """A back-channel logout token (OIDC Back-Channel Logout 1.0, section 2.6)."""
        claims = self._decode(raw)
        self._check(claims, essential=("iat", "jti", "events"))
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events:
            raise TokenError("not a back-channel logout event")
        if "nonce" in claims:
            raise TokenError("a logout token must not carry a nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise TokenError("a logout token needs sid or sub")
        return claims


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

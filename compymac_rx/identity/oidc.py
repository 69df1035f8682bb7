"""Any OIDC issuer: authorization code + PKCE (S256) + state + nonce, through Authlib.

The browser only ever carries our opaque session cookie and, during a sign-in, a short-lived
cookie binding the `state` to that browser (login CSRF). The issuer's tokens stay on the
server, encrypted in the session row. Network calls run in the thread pool (Authlib's httpx
client is synchronous here), so the event loop never waits on the issuer.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from compymac_rx import crypto, ratelimit, routes
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser, IssuerSignIn
from compymac_rx.accounts.tokens import remember_once
from compymac_rx.audit import service as audit
from compymac_rx.db import utcnow
from compymac_rx.devmode import backend_url
from compymac_rx.identity.http import client_ip, see_other, set_session_cookie
from compymac_rx.identity.issuer import Issuer, TokenError
from compymac_rx.offload import off_loop
from compymac_rx.settings import Settings

log = logging.getLogger(__name__)
FLOW_COOKIE = "compymac_oidc_state"
FLOW_SECONDS = 600
# What a failed call to the issuer can raise; anything here refuses the sign-in or refresh.
ISSUER_ERRORS = (TokenError, OAuthError, httpx.HTTPError, KeyError, ValueError)
# A logout token without `exp` is accepted this long after its `iat` (and its jti kept as long).
LOGOUT_TOKEN_SECONDS = 600


def redirect_uri(settings: Settings) -> str:
    """The callback is an HTTP route: on the backend's port in development."""
    return f"{backend_url(settings)}{routes.AUTH_CALLBACK}"


class OidcProvider:
    name = "oidc"
    uses_password_form = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.display_name = settings.oidc_display_name
        self.issuer = Issuer(
            settings.oidc_issuer,
            settings.oidc_client_id,
            timeout=settings.oidc_http_timeout_seconds,
        )

    def check_ready(self) -> None:
        """For /ready: raises when the issuer's discovery document does not answer (uncached,
        unlike `Issuer.metadata`, so a Keycloak that went away shows)."""
        response = httpx.get(
            f"{self.settings.oidc_issuer}/.well-known/openid-configuration",
            timeout=min(self.settings.oidc_http_timeout_seconds, 2.0),
            follow_redirects=False,
        )
        response.raise_for_status()

    # --- what a subclass (keycloak) refines ---

    def app_roles(self, claims: dict[str, Any]) -> set[str] | None:
        """App roles from the ID token; None: this issuer does not manage roles, the app's
        own admin flag stands and everyone it signs in may enter."""
        return None

    def _allowed(self, roles: set[str] | None) -> bool:
        required = self.settings.keycloak_required_role
        return roles is None or not required or required in roles

    @staticmethod
    def _is_admin(roles: set[str] | None) -> bool | None:
        return None if roles is None else "admin" in roles

    # --- the protocol ---

    def routes(self) -> list[BaseRoute]:
        return [
            Route(routes.AUTH_START, self.start, methods=["GET"]),
            Route(routes.AUTH_CALLBACK, self.callback, methods=["GET"]),
            Route(routes.AUTH_BACKCHANNEL_LOGOUT, self.backchannel_logout, methods=["POST"]),
        ]

    def current_user(self, token: str | None) -> CurrentUser | None:
        found = accounts.resolve_session(token)
        if found is None:
            return None
        user, row = found
        if row.provider == "local" or row.access_expires_at is None:
            return user
        margin = timedelta(seconds=self.settings.oidc_refresh_margin_seconds)
        if utcnow() < row.access_expires_at - margin:
            return user
        return self._refresh(user, row)

    def end_session(self, token: str) -> str | None:
        found = accounts.resolve_session(token)
        accounts.sign_out(token)
        if found is None or not found[1].id_token_enc:
            return None
        try:
            end_point = self.issuer.metadata().end_session_endpoint
            _, id_token = accounts.issuer_tokens(found[1])
        except (*ISSUER_ERRORS, crypto.CryptoError) as error:
            log.warning("RP-initiated logout skipped: %s", error)
            return None
        if not end_point or not id_token:
            return None
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": f"{self.settings.public_url}{routes.SIGNIN}",
            "client_id": self.settings.oidc_client_id,
        }
        return f"{end_point}?{urlencode(query)}"

    # --- HTTP routes ---

    def _client(self) -> OAuth2Client:
        s = self.settings
        return OAuth2Client(
            client_id=s.oidc_client_id,
            client_secret=s.oidc_client_secret,
            scope=s.oidc_scopes,
            redirect_uri=redirect_uri(s),
            code_challenge_method="S256",
            timeout=s.oidc_http_timeout_seconds,
        )

    async def start(self, request: Request) -> Response:
        next_path = routes.safe_next(request.query_params.get("next"))
        return await off_loop(self._start, next_path, client_ip(request))

    def _start(self, next_path: str, ip: str) -> Response:
        # Each start writes a flow row: throttled per IP so nobody can fill the table.
        if wait := ratelimit.take("auth_start_ip", f"ip:{ip}"):
            return see_other(routes.signin_url(error="throttled", wait=wait))
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        try:
            endpoint = self.issuer.metadata().authorization_endpoint
        except ISSUER_ERRORS as error:
            log.warning("OIDC discovery failed: %s", error)
            return see_other(routes.signin_url(error="issuer"))
        accounts.new_oidc_flow(
            state=state, nonce=nonce, code_verifier=verifier, next_path=next_path
        )
        with self._client() as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, code_verifier=verifier, nonce=nonce
            )
        response = see_other(url)
        response.set_cookie(
            FLOW_COOKIE,
            state,
            max_age=FLOW_SECONDS,
            path=routes.AUTH_CALLBACK,
            httponly=True,
            samesite="lax",
            secure=self.settings.secure_cookies,
        )
        return response

    async def callback(self, request: Request) -> Response:
        # For the audit events of this sign-in (off_loop carries the context along).
        audit.client_context(client_ip(request), request.headers.get("user-agent", ""))
        return await off_loop(
            self._complete,
            dict(request.query_params),
            request.cookies.get(FLOW_COOKIE, ""),
            request.headers.get("user-agent", ""),
            client_ip(request),
        )

    def _fail(self, code: str) -> Response:
        """Blocking (it writes the audit event): called from _complete, off the loop."""
        audit.record("signin", outcome="failed", detail={"provider": self.name, "reason": code})
        response = see_other(routes.signin_url(error=code))
        response.delete_cookie(FLOW_COOKIE, path=routes.AUTH_CALLBACK)
        return response

    def _complete(self, params: dict[str, str], bound_state: str, agent: str, ip: str) -> Response:
        if params.get("error"):
            return self._fail("denied")
        state, code = params.get("state", ""), params.get("code", "")
        if not (state and code and bound_state and hmac.compare_digest(state, bound_state)):
            return self._fail("state")
        flow = accounts.consume_oidc_flow(state)
        if flow is None:
            return self._fail("state")
        nonce, verifier, next_path = flow
        try:
            with self._client() as client:
                answer = client.fetch_token(
                    self.issuer.metadata().token_endpoint, code=code, code_verifier=verifier
                )
            claims = self.issuer.verify_id_token(answer["id_token"], nonce=nonce)
        except ISSUER_ERRORS as error:
            log.warning("OIDC sign-in refused: %s", error)
            return self._fail("issuer")
        roles = self.app_roles(claims)
        if not self._allowed(roles):
            return self._fail("role")
        verified = claims.get("email_verified") is True and isinstance(claims.get("email"), str)
        try:
            user, identity_id = accounts.user_for_identity(
                issuer=self.issuer.issuer,
                subject=str(claims["sub"]),
                email=str(claims["email"]).strip().lower() if verified else None,
                name=str(claims.get("name") or claims.get("preferred_username") or ""),
                is_admin=self._is_admin(roles),
            )
        except accounts.AuthError as error:
            return self._fail(error.code)
        token = accounts.start_issuer_session(
            user_id=user.id,
            identity_id=identity_id,
            provider=self.name,
            tokens=_tokens(answer, claims),
            user_agent=agent,
            ip=ip,
        )
        response = see_other(routes.safe_next(next_path))
        response.delete_cookie(FLOW_COOKIE, path=routes.AUTH_CALLBACK)
        set_session_cookie(response, token)
        return response

    async def backchannel_logout(self, request: Request) -> Response:
        form = await request.form()
        raw = str(form.get("logout_token", ""))
        try:
            claims = await off_loop(self.issuer.verify_logout_token, raw)
        except ISSUER_ERRORS as error:
            log.warning("back-channel logout refused: %s", error)
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        ended = await off_loop(self._logout, claims)
        if ended is None:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        log.info("back-channel logout ended %d session(s)", ended)
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    def _logout(self, claims: dict[str, Any]) -> int | None:
        """Ends the sessions a verified logout token names; None when the token is stale or
        was seen before (its jti is remembered until the token expires)."""
        exp = claims.get("exp")
        until = (
            datetime.fromtimestamp(int(exp), UTC)
            if isinstance(exp, int | float)
            else datetime.fromtimestamp(int(claims["iat"]) + LOGOUT_TOKEN_SECONDS, UTC)
        )
        if until <= utcnow():
            log.warning("back-channel logout refused: the token is too old")
            return None
        if not remember_once(
            "logout-jti", f"{self.issuer.issuer}|{claims['jti']}", expires_at=until
        ):
            log.warning("back-channel logout refused: jti %r replayed", claims["jti"])
            return None
        return accounts.end_issuer_sessions(
            issuer=self.issuer.issuer, subject=claims.get("sub"), sid=claims.get("sid")
        )

    # --- refresh ---

    def _refresh(self, user: CurrentUser, row: IssuerSignIn) -> CurrentUser | None:
        """New tokens before the access token expires; a refused refresh ends the session."""
        try:
            refresh_token, old_id_token = accounts.issuer_tokens(row)
        except crypto.CryptoError:
            # Sealed under a key since removed from SECRET_KEYS: sign out, cleanly.
            log.warning("session %s ends: its issuer tokens can no longer be decrypted", row.id)
            accounts.end_session(row.id)
            return None
        if not refresh_token:
            accounts.end_session(row.id)
            return None
        try:
            with self._client() as client:
                answer = client.refresh_token(
                    self.issuer.metadata().token_endpoint, refresh_token=refresh_token
                )
            claims = self.issuer.verify_id_token(answer["id_token"], nonce=None)
            if old_id_token and claims["sub"] != _unverified_claims(old_id_token).get("sub"):
                raise TokenError("the refreshed ID token is for someone else")
        except (OAuthError, TokenError, KeyError) as error:
            log.info("refresh refused, session %s ends: %s", row.id, error)
            accounts.end_session(row.id)
            return None
        except httpx.HTTPError as error:
            # The issuer is unreachable: keep the user until the access token really expires.
            log.warning("refresh failed (issuer unreachable): %s", error)
            assert row.access_expires_at is not None
            return user if utcnow() < row.access_expires_at else None
        roles = self.app_roles(claims)
        if not self._allowed(roles):
            accounts.end_session(row.id)
            return None
        is_admin = self._is_admin(roles)
        accounts.refreshed(row.id, _tokens(answer, claims), is_admin=is_admin)
        if is_admin is None:
            return user
        return CurrentUser(id=user.id, email=user.email, is_admin=is_admin)


def _tokens(answer: dict[str, Any], claims: dict[str, Any]) -> accounts.IssuerTokens:
    expires_in = answer.get("expires_in")
    return accounts.IssuerTokens(
        refresh_token=answer.get("refresh_token"),
        id_token=answer["id_token"],
        access_expires_at=(
            utcnow() + timedelta(seconds=int(expires_in)) if expires_in is not None else None
        ),
        sid=claims.get("sid"),
    )


def _unverified_claims(raw: str) -> dict[str, Any]:
    """Claims of a token we verified before storing it (encrypted) ourselves."""
    payload = raw.split(".")[1]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data if isinstance(data, dict) else {}

"""A small real OIDC issuer for unit tests: discovery, JWKS and a token endpoint on a free
loopback port, signing with real RSA keys. The tests script what the token endpoint answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "compymac-web"


class FakeIssuerState:
    def __init__(self, url: str) -> None:
        self.url = url
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "key-1"})]
        self.token_answer: dict[str, Any] = {}
        self.token_status = 200
        # Seconds the token endpoint waits before answering: an issuer that hangs.
        self.token_delay = 0.0
        self.jwks_fetches = 0

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None, alg: str = "RS256") -> str:
        key = key or self.keys[0]
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)

    def id_claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": "subject-1",
            "iat": now,
            "exp": now + 300,
            "nonce": "n-1",
            "email": "person@example.com",
            "email_verified": True,
            "sid": "kc-session-1",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}


def _handler(state: FakeIssuerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": state.url,
                        "authorization_endpoint": f"{state.url}/auth",
                        "token_endpoint": f"{state.url}/token",
                        "jwks_uri": f"{state.url}/jwks",
                        "end_session_endpoint": f"{state.url}/logout",
                    }
                )
            elif self.path == "/jwks":
                state.jwks_fetches += 1
                self._json({"keys": [key.as_dict(private=False) for key in state.keys]})
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            if self.path == "/token":
                time.sleep(state.token_delay)
                self._json(state.token_answer, state.token_status)
            else:
                self.send_error(404)

    return Handler


@contextmanager
def fake_issuer() -> Iterator[FakeIssuerState]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state = FakeIssuerState(url)
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

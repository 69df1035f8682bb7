"""Security headers on every HTTP response: CSP, framing, referrer, sniffing, HSTS.

The Content-Security-Policy is the second line behind text-only rendering: even if some
markup slipped through, the browser runs only the build's own scripts. The production build
emits a few inline scripts (theme boot, React Router's context and stream, React's streaming
helpers); their exact text is in the prerendered HTML files, so their SHA-256 hashes are read
from there once and allowed one by one. No 'unsafe-inline' and no 'unsafe-eval' for scripts.

Styles need 'unsafe-inline': Emotion (Reflex's `css` props) inserts <style> elements at run
time and Radix sets `style` attributes, and Reflex gives neither a nonce. Inline CSS cannot run
script; the remaining risk (CSS-based data exfiltration) is contained by `img-src`,
`font-src` and `connect-src`, which only reach our own origin.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compymac_rx.http.origins import origin_of
from compymac_rx.offload import off_loop
from compymac_rx.settings import Settings

HSTS_MAX_AGE = 365 * 24 * 3600


class _InlineScripts(HTMLParser):
    """Collects the text of every <script> without a src, exactly as the browser hashes it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.texts: list[str] = []
        self._inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._inline = not any(name == "src" for name, _ in attrs)
            if self._inline:
                self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inline = False

    def handle_data(self, data: str) -> None:
        if self._inline:
            self.texts[-1] += data


def inline_script_hashes(static_dir: Path | None) -> list[str]:
    """`'sha256-…'` sources for every inline script in the built HTML pages, sorted."""
    if static_dir is None or not static_dir.is_dir():
        return []
    found: set[str] = set()
    for page in static_dir.rglob("*.html"):
        parser = _InlineScripts()
        parser.feed(page.read_text(encoding="utf-8"))
        for text in parser.texts:
            digest = hashlib.sha256(text.encode("utf-8")).digest()
            found.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return sorted(found)


def _with_ws(origins: Iterable[str]) -> list[str]:
    out: list[str] = []
    for origin in origins:
        scheme, rest = origin.split("://", 1)
        out += [origin, f"{'wss' if scheme == 'https' else 'ws'}://{rest}"]
    return list(dict.fromkeys(out))


def content_security_policy(
    settings: Settings, script_hashes: list[str], api_url: str | None = None
) -> str:
    # The frontend calls the backend at Reflex's api_url (absolute, ws:// for the socket);
    # in single-port production that is PUBLIC_URL.
    backend = [origin_of(settings.public_url)]
    if api_url:
        backend.append(origin_of(api_url))
    form_targets = ["'self'"]
    if settings.identity_provider != "local" and settings.oidc_issuer:
        # Sign-in and sign-out forms answer with a redirect to the issuer; Chromium applies
        # form-action to that redirect too.
        form_targets.append(origin_of(settings.oidc_issuer))
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *_with_ws(backend)],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": list(dict.fromkeys(form_targets)),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(
    settings: Settings, script_hashes: list[str], api_url: str | None = None
) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(settings, script_hashes, api_url),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        # Not no-referrer: under it Chromium sends `Origin: null` on form posts, and the
        # sign-in routes check Origin against login CSRF.
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.public_url.startswith("https://"):
        headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}"
    return headers


class SecurityHeaders:
    """Adds the headers to every HTTP response; a header a route set itself is kept (the
    file download route sends a stricter CSP of its own)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        static_dir: Path | None,
        api_url: str | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.static_dir = static_dir
        self.api_url = api_url
        self._headers: dict[str, str] | None = None

    async def _get_headers(self) -> dict[str, str]:
        if self._headers is None:
            # Read the build once, on the first request (the build exists by then).
            hashes = await off_loop(inline_script_hashes, self.static_dir)
            self._headers = security_headers(self.settings, hashes, self.api_url)
        return self._headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = await self._get_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

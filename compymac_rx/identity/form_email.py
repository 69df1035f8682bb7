"""The email typed into a sign-in or sign-up form that failed, shown again on the form.

The failed POST answers with a redirect to the page; the email rides along in a short-lived
HttpOnly cookie rather than the URL, so it stays out of access logs, proxies and history.
The page's load handler reads it from the WebSocket handshake's Cookie header.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import quote, unquote

from starlette.responses import Response

from compymac_rx.identity.http import session_cookie_name
from compymac_rx.settings import get_settings

# Long enough to read the error and retype the password, short enough not to linger.
FORM_EMAIL_SECONDS = 300
EMAIL_MAX = 320


def form_email_cookie_name() -> str:
    return f"{session_cookie_name()}_email"


def remember_form_email(response: Response, email: str) -> Response:
    """Let the page the response redirects to fill the email field in again."""
    email = email.strip()[:EMAIL_MAX]
    if email:
        response.set_cookie(
            form_email_cookie_name(),
            quote(email, safe="@"),
            max_age=FORM_EMAIL_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=get_settings().secure_cookies,
        )
    return response


def form_email_from_cookie_header(header: str | None) -> str:
    """The remembered email, or "" (no cookie, or one that does not parse)."""
    if not header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return ""
    morsel = jar.get(form_email_cookie_name())
    return unquote(morsel.value)[:EMAIL_MAX] if morsel else ""

"""Every path the app serves, and small builders for the ones that take arguments."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from urllib.parse import urlencode

HOME = "/"
SIGNIN = "/signin"
SIGNUP = "/signup"
SESSION = "/s/[session_id]"
SESSION_PREFIX = "/s/"
SETTINGS = "/settings"
ACCOUNT = "/account"
FORGOT = "/forgot"
RESET = "/reset"
# Mailed sign-in links and the second-factor step (accounts/email_links, accounts/twofactor).
MAGIC_REQUEST = "/magic-link"
MAGIC = "/magic"
SECOND_FACTOR = "/two-factor"
FILES_ROUTE = "/files/{session_id}/{path:path}"
EXPORT_SESSION_ROUTE = "/export/sessions/{session_id}/{kind}"
EXPORT_ACCOUNT = "/export/account"

AUTH_LOGIN = "/auth/login"
AUTH_SIGNUP = "/auth/signup"
AUTH_LOGOUT = "/auth/logout"
AUTH_START = "/auth/start"
AUTH_CALLBACK = "/auth/callback"
AUTH_BACKCHANNEL_LOGOUT = "/auth/backchannel-logout"
AUTH_FORGOT = "/auth/forgot"
AUTH_RESET = "/auth/reset"
AUTH_VERIFY = "/auth/verify"
AUTH_VERIFY_RESEND = "/auth/verify/resend"
AUTH_MAGIC_REQUEST = "/auth/magic/request"
AUTH_MAGIC = "/auth/magic"
AUTH_SECOND_FACTOR = "/auth/two-factor"
ADMIN = "/admin"
HEALTH = "/health"
READY = "/ready"
METRICS = "/metrics"


def file_url(session_id: str, path: str, *, inline: bool = False) -> str:
    from urllib.parse import quote

    return f"/files/{session_id}/{quote(path)}" + ("?inline=1" if inline else "")


def export_url(session_id: str, kind: str) -> str:
    """One session's export: kind "markdown" or "json"."""
    return f"/export/sessions/{session_id}/{kind}"


def session_url(session_id: str) -> str:
    return f"{SESSION_PREFIX}{session_id}"


def message_url(session_id: str, seq: int) -> str:
    """The session opened at message `seq` (a search hit): `?m=<seq>`."""
    return f"{SESSION_PREFIX}{session_id}?m={seq}"


def message_seq_from_query(params: Mapping[str, str]) -> int:
    """The `m` of message_url, 0 when absent or not a number."""
    value = params.get("m", "")
    return int(value) if value.isdigit() and len(value) < 16 else 0


def session_id_from_path(path: str) -> str | None:
    if not path.startswith(SESSION_PREFIX):
        return None
    candidate = path[len(SESSION_PREFIX) :].strip("/")
    return candidate if candidate.isalnum() and len(candidate) <= 64 else None


def _has_control(text: str) -> bool:
    # Browsers drop tabs and newlines from URLs ("/\t/evil.example" becomes
    # "//evil.example"), and format characters (bidi overrides) disguise a path.
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text)


def safe_next(target: str | None) -> str:
    """A post-sign-in destination, only ever a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    if _has_control(target):
        return HOME
    if target.startswith(("/auth/", SIGNIN, SIGNUP, FORGOT, RESET, MAGIC, SECOND_FACTOR)):
        return HOME
    return target


def signin_url(
    *, next_path: str | None = None, error: str | None = None, wait: int = 0, notice: str = ""
) -> str:
    return _auth_page(SIGNIN, next_path, error=error or "", notice=notice, wait=wait)


def signup_url(
    *, next_path: str | None = None, error: str | None = None, wait: int = 0, invite: str = ""
) -> str:
    return _auth_page(SIGNUP, next_path, invite=invite, error=error or "", wait=wait)


def _auth_page(path: str, next_path: str | None, *, wait: int, **params: str) -> str:
    """A sign-in or sign-up URL: `next` only where it is a safe page other than home."""
    target = safe_next(next_path) if next_path else HOME
    return page_with(
        path, next=target if target != HOME else "", **params, wait=str(wait) if wait else ""
    )


def page_with(path: str, **params: str) -> str:
    """`path` with the non-empty `params` as its query."""
    kept = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path

"""Sign-up, sign-in, sign-out and resolving a session token to the current user."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import timedelta

from pwdlib import PasswordHash

from compymac_rx import ratelimit
from compymac_rx.accounts import repository
from compymac_rx.accounts.models import CurrentUser, User
from compymac_rx.db import session_scope, utcnow
from compymac_rx.ratelimit import RateLimiter
from compymac_rx.settings import get_settings

EMAIL_MAX = 320
PASSWORD_MAX = 256
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Shown to the user, keyed by the code that travels in the sign-in page's URL.
AUTH_ERROR_MESSAGES = {
    "invalid": "Wrong email or password.",
    "throttled": "Too many attempts. Try again in {wait} s.",
    "email": "Enter a valid email address.",
    "password": "Use a password of at least {min} characters, not your email address.",
    "exists": "An account with this email already exists. Sign in instead.",
    "origin": "The request came from another site and was refused.",
    "expired": "Your session has ended. Sign in again.",
}


class AuthError(Exception):
    def __init__(self, code: str, retry_after: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def login_limiters() -> tuple[RateLimiter, RateLimiter]:
    """(per email, per IP), from the store the settings choose."""
    return ratelimit.get_limiter("login_email"), ratelimit.get_limiter("login_ip")


def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL_RE.match(email):
        raise AuthError("email")
    return email


def check_password_policy(password: str, email: str) -> None:
    s = get_settings()
    too_weak = (
        len(password) < s.password_min_length
        or len(password) > PASSWORD_MAX
        or password.strip().lower() == email
        or len(set(password)) < 3
    )
    if too_weak:
        raise AuthError("password")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _start_session(user: User, *, user_agent: str, ip: str) -> str:
    token = secrets.token_urlsafe(32)
    with session_scope() as db:
        repository.add_auth_session(
            db,
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(hours=get_settings().session_ttl_hours),
            user_agent=user_agent,
            ip=ip,
        )
    return token


def sign_up(email: str, password: str, *, user_agent: str = "", ip: str = "") -> str:
    """Create an account and sign it in. The first account becomes admin. Returns the token."""
    email = normalise_email(email)
    check_password_policy(password, email)
    if ip and (wait := ratelimit.take("signup_ip", f"ip:{ip}")):
        raise AuthError("throttled", retry_after=wait)
    password_hash = _hasher().hash(password)
    with session_scope() as db:
        if repository.get_user_by_email(db, email=email) is not None:
            raise AuthError("exists")
        user = repository.add_user(
            db,
            email=email,
            password_hash=password_hash,
            is_admin=repository.count_users(db) == 0,
        )
    return _start_session(user, user_agent=user_agent, ip=ip)


def sign_in(email: str, password: str, *, user_agent: str = "", ip: str = "") -> str:
    """Check credentials, throttled per email and per IP. Returns the new session token."""
    by_email, by_ip = login_limiters()
    email = email.strip().lower()
    keys = ((by_email, f"email:{email}"), (by_ip, f"ip:{ip}"))
    wait = max(limiter.retry_after(key) for limiter, key in keys)
    if wait:
        raise AuthError("throttled", retry_after=wait)
    with session_scope() as db:
        user = repository.get_user_by_email(db, email=email)
    # Verify against a dummy hash for unknown emails so timing does not reveal accounts.
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    valid = _hasher().verify(password[:PASSWORD_MAX], stored)
    if not (valid and user is not None and user.is_active and user.password_hash):
        for limiter, key in keys:
            limiter.record_failure(key)
        raise AuthError("invalid")
    by_email.reset(f"email:{email}")
    return _start_session(user, user_agent=user_agent, ip=ip)


def sign_out(token: str) -> None:
    with session_scope() as db:
        repository.revoke_auth_session(db, token_hash=hash_token(token), now=utcnow())


def resolve_user(token: str | None) -> CurrentUser | None:
    """The user behind a session token, or None if it is unknown, revoked or expired."""
    if not token:
        return None
    with session_scope() as db:
        found = repository.get_live_auth_session(db, token_hash=hash_token(token), now=utcnow())
        if found is None:
            return None
        _, user = found
        return CurrentUser(id=user.id, email=user.email, is_admin=user.is_admin)

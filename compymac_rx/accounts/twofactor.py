"""TOTP two-factor sign-in (pyotp) for local accounts.

Enrolling stores a new secret (encrypted, bound to the user id) and shows it as a QR code
(a PNG data URL drawn by segno: an image, never markup); a code from the authenticator
confirms it, and only then is it on. Ten recovery codes are shown once (only their SHA-256
kept, each usable once), and every sign-in, by password or by mailed link, then asks for a
code. A code is accepted once (the last time step used is kept). Turning it off takes the
password and a code.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import time

import pyotp
import segno

from compymac_rx import crypto, ratelimit
from compymac_rx.accounts import repository
from compymac_rx.accounts.models import SECOND_FACTOR, OneTimeToken, User
from compymac_rx.accounts.service import AuthError, check_current_password, start_session
from compymac_rx.accounts.tokens import hash_token, redeem, usable
from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.settings import get_settings

RECOVERY_CODES = 10
# One 30-second step either side of now: phone clocks drift.
VALID_WINDOW = 1
CODE_MAX = 40


@dataclasses.dataclass(frozen=True)
class Enrollment:
    secret: str  # shown for typing in by hand
    qr_data_url: str  # data:image/png;base64,...


@dataclasses.dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    recovery_codes_left: int


def _context(user_id: str) -> str:
    return f"totp:{user_id}"


def _user(user_id: str) -> User:
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
    if user is None:
        raise AuthError("expired")
    return user


def _totp(user: User) -> pyotp.TOTP | None:
    if not user.totp_secret_enc:
        return None
    return pyotp.TOTP(crypto.decrypt(user.totp_secret_enc, context=_context(user.id)))


def _matching_step(totp: pyotp.TOTP, code: str) -> int | None:
    """The time step whose code this is (within the window), else None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == totp.digits):
        return None
    now = time.time()
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        at = now + offset * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return totp.timecode(at)
    return None


def _normalise_recovery(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def status(user_id: str) -> TwoFactorStatus:
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
        left = repository.count_unused_recovery_codes(db, user_id=user_id)
    return TwoFactorStatus(user is not None and user.totp_enabled_at is not None, left)


def start_enrollment(user_id: str) -> Enrollment:
    """A new secret, stored but not yet on; a second call replaces the first one."""
    user = _user(user_id)
    if user.totp_enabled_at is not None:
        raise AuthError("already_enrolled")
    secret = pyotp.random_base32()
    with session_scope() as db:
        repository.set_totp(
            db,
            user_id=user_id,
            secret_enc=crypto.encrypt(secret, context=_context(user_id)),
            enabled_at=None,
        )
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=get_settings().totp_issuer
    )
    return Enrollment(secret, segno.make(uri, error="m").png_data_uri(scale=5, border=2))


def confirm_enrollment(user_id: str, code: str) -> list[str]:
    """Turn two-factor on with a code from the new secret; returns the recovery codes (the
    only time they exist in clear)."""
    user = _user(user_id)
    totp = _totp(user)
    if user.totp_enabled_at is not None:
        raise AuthError("already_enrolled")
    step = _matching_step(totp, code[:CODE_MAX]) if totp else None
    if step is None:
        raise AuthError("code")
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    with session_scope() as db:
        repository.set_totp(
            db, user_id=user_id, secret_enc=user.totp_secret_enc, enabled_at=utcnow()
        )
        repository.take_totp_step(db, user_id=user_id, step=step)
        repository.replace_recovery_codes(
            db, user_id=user_id, code_hashes=[hash_token(_normalise_recovery(c)) for c in codes]
        )
        audit.own("2fa.enable", user_id, db=db)
    return codes


def _accept_code(user: User, code: str) -> str:
    """Blocking: "totp" or "recovery" when `code` is right (and now used), else AuthError."""
    code = code[:CODE_MAX]
    totp = _totp(user)
    step = _matching_step(totp, code) if totp else None
    with session_scope() as db:
        if step is not None and repository.take_totp_step(db, user_id=user.id, step=step):
            return "totp"
        recovery = _normalise_recovery(code)
        if len(recovery) == 12 and repository.use_recovery_code(
            db, user_id=user.id, code_hash=hash_token(recovery), now=utcnow()
        ):
            audit.own("2fa.recovery_used", user.id, db=db)
            return "recovery"
    raise AuthError("code")


def pending_user(pending: str) -> str | None:
    """The account a half-finished sign-in belongs to (None: unknown, used or expired)."""
    found = usable(OneTimeToken, pending, purpose=SECOND_FACTOR)
    return None if found is None else found.user_id


def complete_sign_in(pending: str, code: str, *, ip: str = "", user_agent: str = "") -> str:
    """Exchange a half-finished sign-in and a code for a session token. Wrong codes are
    throttled per account like wrong passwords."""
    user_id = pending_user(pending)
    user = _user(user_id) if user_id else None
    if user is None or not user.is_active or user.totp_enabled_at is None:
        raise AuthError("second_factor")
    key = f"user:{user.id}"
    if wait := ratelimit.take("second_factor_user", key):
        raise AuthError("throttled", retry_after=wait)
    try:
        method = _accept_code(user, code)
    except AuthError:
        audit.record(
            "signin",
            subject_id=user.id,
            target=f"user:{user.id}",
            outcome="failed",
            detail={"reason": "second factor"},
            ip=ip,
            user_agent=user_agent,
        )
        raise
    ratelimit.get_limiter("second_factor_user").give_back(key)
    with session_scope() as db:
        used = redeem(db, OneTimeToken, pending, now=utcnow(), purpose=SECOND_FACTOR)
    if used is None:  # a racing request finished this sign-in a moment ago
        raise AuthError("second_factor")
    token = start_session(user, user_agent=user_agent, ip=ip)
    audit.own("signin", user.id, detail={"second_factor": method}, ip=ip, user_agent=user_agent)
    return token


def disable(user_id: str, *, password: str, code: str) -> None:
    """Turn two-factor off: the current password and a code (or a recovery code)."""
    user = _user(user_id)
    if user.totp_enabled_at is None:
        return
    check_current_password(user, password)
    _accept_code(user, code)
    with session_scope() as db:
        repository.set_totp(db, user_id=user_id, secret_enc=None, enabled_at=None)
        repository.replace_recovery_codes(db, user_id=user_id, code_hashes=[])
        audit.own("2fa.disable", user_id, db=db)

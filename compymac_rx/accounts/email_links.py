"""Links by mail: confirming an address (EMAIL_VERIFICATION) and signing in (MAGIC_LINK).

Each link is single-use and short-lived, and only its SHA-256 is stored. Asking for one
answers the same, at once, whether or not the email has an account: the request only counts
the attempt (per email and per IP) and the lookup, the link and the mail happen on the mail
outbox thread (resets.queue_mail), as for password resets.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode

from compymac_rx import ratelimit, routes
from compymac_rx.accounts import repository, resets, revocations
from compymac_rx.accounts.models import MAGIC_LINK, VERIFY_EMAIL, OneTimeToken, User
from compymac_rx.accounts.service import AuthError, finish_sign_in, normalise_email
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.mailer import Mail
from compymac_rx.settings import get_settings

TOKEN_MAX = 100


def verify_url(token: str) -> str:
    return f"{get_settings().public_url}{routes.AUTH_VERIFY}?{urlencode({'token': token})}"


def magic_url(token: str) -> str:
    return f"{get_settings().public_url}{routes.MAGIC}?{urlencode({'token': token})}"


def _throttled(email: str, ip: str) -> bool:
    return bool(
        ratelimit.take("mail_link_email", f"email:{email}")
        or (ip and ratelimit.take("mail_link_ip", f"ip:{ip}"))
    )


def _new_token(user_id: str, purpose: str, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope() as db:
        repository.add_one_time_token(
            db,
            token=OneTimeToken(
                token_hash=hash_token(token),
                user_id=user_id,
                purpose=purpose,
                created_at=now,
                expires_at=now + ttl,
            ),
        )
    return token


def _local_account(email: str) -> User | None:
    """An active account that signs in here with a password: the only kind mailed links."""
    with session_scope() as db:
        user = repository.get_user_by_email(db, email=email)
    return user if user is not None and user.is_active and user.password_hash else None


# --- confirming the address ---


def needs_verification(user_id: str) -> bool:
    """Blocking: the banner's question (EMAIL_VERIFICATION on, this address not confirmed)."""
    if get_settings().email_verification == "off":
        return False
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
    return user is not None and user.password_hash is not None and user.email_verified_at is None


def send_verification(user_id: str, *, ip: str = "", user_agent: str = "") -> None:
    """Mail a confirmation link to this account's address (at sign-up, or the banner's
    resend button), throttled like every mailed link."""
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
    if user is None:
        return
    throttled = _throttled(user.email, ip)
    resets.queue_mail(_verification_mail, user.email, throttled, ip, user_agent)


def request_verification(email: str, *, ip: str = "", user_agent: str = "") -> None:
    """The sign-in page's "send it again": the same answer for every email."""
    try:
        email = normalise_email(email)
    except AuthError:
        return
    throttled = _throttled(email, ip)
    resets.queue_mail(_verification_mail, email, throttled, ip, user_agent)


def _verification_mail(email: str, throttled: bool, ip: str, user_agent: str) -> Mail | None:
    user = _local_account(email)
    wanted = user is not None and user.email_verified_at is None
    outcome = "refused" if throttled else "ok" if wanted else "failed"
    mail = None
    if user is not None and wanted and not throttled:
        hours = get_settings().email_verification_ttl_hours
        token = _new_token(user.id, VERIFY_EMAIL, timedelta(hours=hours))
        mail = Mail(
            to=email,
            subject="Confirm your CompyMac RX email address",
            text=(
                "Someone (hopefully you) created an account with this address.\n"
                f"Open this link within {hours} hours to confirm it; it works once:\n"
                f"{verify_url(token)}\n\n"
                "If it was not you, ignore this message."
            ),
        )
    resets.record_link_request("email.verify_request", user, email, outcome, ip, user_agent)
    return mail


@revocations.changes_sessions  # the banner's answer is cached with the signed-in user
def verify_email(token: str, *, ip: str = "", user_agent: str = "") -> str:
    """Use a confirmation link; returns the account's id. AuthError("verify_link") when it
    is unknown, used or expired."""
    if not token or len(token) > TOKEN_MAX:
        raise AuthError("verify_link")
    with session_scope() as db:
        now = utcnow()
        user_id = repository.use_one_time_token(
            db, token_hash=hash_token(token), purpose=VERIFY_EMAIL, now=now
        )
        if user_id is None:
            raise AuthError("verify_link")
        repository.mark_email_verified(db, user_id=user_id, now=now)
        repository.forget_one_time_tokens(db, user_id=user_id, purpose=VERIFY_EMAIL, now=now)
        audit.record(
            "email.verify",
            actor_id=user_id,
            subject_id=user_id,
            target=f"user:{user_id}",
            ip=ip,
            user_agent=user_agent,
            db=db,
        )
    return user_id


# --- signing in by link ---


def request_magic_link(email: str, *, ip: str = "", user_agent: str = "") -> None:
    """Mail a sign-in link when MAGIC_LINK is on and the email has an active local account.
    Returns at once and the same for every email."""
    if not get_settings().magic_link:
        return
    try:
        email = normalise_email(email)
    except AuthError:
        return
    throttled = _throttled(email, ip)
    resets.queue_mail(_magic_mail, email, throttled, ip, user_agent)


def _magic_mail(email: str, throttled: bool, ip: str, user_agent: str) -> Mail | None:
    user = _local_account(email)
    outcome = "refused" if throttled else "ok" if user is not None else "failed"
    mail = None
    if user is not None and not throttled:
        minutes = get_settings().magic_link_ttl_minutes
        token = _new_token(user.id, MAGIC_LINK, timedelta(minutes=minutes))
        mail = Mail(
            to=email,
            subject="Your CompyMac RX sign-in link",
            text=(
                "Someone (hopefully you) asked to sign in to this account by email.\n"
                f"Open this link within {minutes} minutes and press Sign in; it works once:\n"
                f"{magic_url(token)}\n\n"
                "If it was not you, ignore this message: nobody is signed in without it."
            ),
        )
    resets.record_link_request("magic_link.request", user, email, outcome, ip, user_agent)
    return mail


def magic_link_usable(token: str) -> bool:
    if not token or len(token) > TOKEN_MAX:
        return False
    with session_scope() as db:
        found = repository.find_usable_one_time_token(
            db, token_hash=hash_token(token), purpose=MAGIC_LINK, now=utcnow()
        )
    return found is not None


def sign_in_by_link(token: str, *, ip: str = "", user_agent: str = "") -> str:
    """Use a sign-in link: a session token (or SecondFactorNeeded). The link proves the
    address, so it also confirms it. AuthError("magic_link") when it is unknown, used,
    expired, or the account was disabled since."""
    if not get_settings().magic_link or not token or len(token) > TOKEN_MAX:
        raise AuthError("magic_link")
    with session_scope() as db:
        now = utcnow()
        user_id = repository.use_one_time_token(
            db, token_hash=hash_token(token), purpose=MAGIC_LINK, now=now
        )
        user = repository.get_user(db, user_id=user_id) if user_id else None
        if user is not None and user.is_active:
            repository.mark_email_verified(db, user_id=user.id, now=now)
            repository.forget_one_time_tokens(db, user_id=user.id, purpose=MAGIC_LINK, now=now)
            db.refresh(user)
    if user is None or not user.is_active:
        audit.record(
            "signin",
            subject_id=user.id if user else None,
            outcome="failed",
            detail={"method": "magic_link", "reason": "link"},
            ip=ip,
            user_agent=user_agent,
        )
        raise AuthError("magic_link")
    return finish_sign_in(user, method="magic_link", user_agent=user_agent, ip=ip)

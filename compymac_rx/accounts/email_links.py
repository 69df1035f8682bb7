"""Links by mail: confirming an address (EMAIL_VERIFICATION) and signing in (MAGIC_LINK).

Each link is single-use and short-lived, and only its SHA-256 is stored. Asking for one
answers the same, at once, whether or not the email has an account: the request only counts
the attempt (per email and per IP) and the lookup, the link and the mail happen on the mail
outbox thread (resets.queue_link), as for password resets.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlmodel import Session

from compymac_rx import routes
from compymac_rx.accounts import repository, revocations
from compymac_rx.accounts.models import MAGIC_LINK, VERIFY_EMAIL, OneTimeToken, User
from compymac_rx.accounts.resets import LinkRequest, link_mail, local_account, queue_link
from compymac_rx.accounts.service import AuthError, finish_sign_in
from compymac_rx.accounts.tokens import TOKEN_MAX as TOKEN_MAX
from compymac_rx.accounts.tokens import issue, link_url, redeem, usable
from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.mailer import Mail
from compymac_rx.ratelimit import LimitName
from compymac_rx.settings import get_settings

_LIMITS: tuple[LimitName, LimitName] = ("mail_link_email", "mail_link_ip")
# What each kind of link opens, the mail's subject, and its text ({within}: how long it works).
_LETTERS = {
    VERIFY_EMAIL: (
        routes.AUTH_VERIFY,
        "Confirm your CompyMac RX email address",
        "Someone (hopefully you) created an account with this address.\n"
        "Open this link within {within} to confirm it; it works once:\n{link}\n\n"
        "If it was not you, ignore this message.",
    ),
    MAGIC_LINK: (
        routes.MAGIC,
        "Your CompyMac RX sign-in link",
        "Someone (hopefully you) asked to sign in to this account by email.\n"
        "Open this link within {within} and press Sign in; it works once:\n{link}\n\n"
        "If it was not you, ignore this message: nobody is signed in without it.",
    ),
}


def _compose(purpose: str, user: User) -> Mail:
    """Blocking: a new link of this kind for `user`, and the mail that carries it."""
    settings = get_settings()
    if purpose == VERIFY_EMAIL:
        hours = settings.email_verification_ttl_hours
        ttl, within = timedelta(hours=hours), f"{hours} hours"
    else:
        minutes = settings.magic_link_ttl_minutes
        ttl, within = timedelta(minutes=minutes), f"{minutes} minutes"
    with session_scope() as db:
        token = issue(db, OneTimeToken, ttl, user_id=user.id, purpose=purpose)
    route, subject, text = _LETTERS[purpose]
    return Mail(user.email, subject, text.format(within=within, link=link_url(route, token)))


def _proved(db: Session, user_id: str, purpose: str, now: datetime) -> None:
    """A mailed link of this account was used: its address is confirmed, and its other
    links of the kind stop working."""
    repository.mark_email_verified(db, user_id=user_id, now=now)
    repository.forget_unused(db, OneTimeToken, now=now, user_id=user_id, purpose=purpose)


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
    if user is not None:
        request_verification(user.email, ip=ip, user_agent=user_agent)


def request_verification(email: str, *, ip: str = "", user_agent: str = "") -> None:
    """The sign-in page's "send it again": the same answer for every email."""
    queue_link(_verification_mail, email, limits=_LIMITS, ip=ip, user_agent=user_agent)


def _verification_mail(request: LinkRequest) -> Mail | None:
    user = local_account(request.email)
    wanted = user is not None and user.email_verified_at is None
    compose = functools.partial(_compose, VERIFY_EMAIL)
    return link_mail("email.verify_request", request, user, compose, wanted=wanted)


@revocations.changes_sessions  # the banner's answer is cached with the signed-in user
def verify_email(token: str, *, ip: str = "", user_agent: str = "") -> str:
    """Use a confirmation link; returns the account's id. AuthError("verify_link") when it
    is unknown, used or expired."""
    with session_scope() as db:
        now = utcnow()
        used = redeem(db, OneTimeToken, token, now=now, purpose=VERIFY_EMAIL)
        if used is None:
            raise AuthError("verify_link")
        _proved(db, used.user_id, VERIFY_EMAIL, now)
        audit.own("email.verify", used.user_id, ip=ip, user_agent=user_agent, db=db)
    return used.user_id


# --- signing in by link ---


def request_magic_link(email: str, *, ip: str = "", user_agent: str = "") -> None:
    """Mail a sign-in link when MAGIC_LINK is on and the email has an active local account.
    Returns at once and the same for every email."""
    if get_settings().magic_link:
        queue_link(_magic_mail, email, limits=_LIMITS, ip=ip, user_agent=user_agent)


def _magic_mail(request: LinkRequest) -> Mail | None:
    compose = functools.partial(_compose, MAGIC_LINK)
    return link_mail("magic_link.request", request, local_account(request.email), compose)


def magic_link_usable(token: str) -> bool:
    return usable(OneTimeToken, token, purpose=MAGIC_LINK) is not None


def sign_in_by_link(token: str, *, ip: str = "", user_agent: str = "") -> str:
    """Use a sign-in link: a session token (or SecondFactorNeeded). The link proves the
    address, so it also confirms it. AuthError("magic_link") when it is unknown, used,
    expired, or the account was disabled since."""
    if not get_settings().magic_link or not token or len(token) > TOKEN_MAX:
        raise AuthError("magic_link")
    with session_scope() as db:
        now = utcnow()
        used = redeem(db, OneTimeToken, token, now=now, purpose=MAGIC_LINK)
        user = repository.get_user(db, user_id=used.user_id) if used else None
        if user is not None and user.is_active:
            _proved(db, user.id, MAGIC_LINK, now)
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

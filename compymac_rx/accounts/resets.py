"""Forgotten passwords: a single-use, short-lived link by mail (only its hash is stored).

Asking gives the same answer, after the same work, whether or not the email has an
account: the request only counts the attempt and hands the rest (lookup, link, mail) to a
background thread, so neither the page nor its timing tells who has an account here.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode

from sqlmodel import Session

from compymac_rx import ratelimit, routes
from compymac_rx.accounts import repository, revocations
from compymac_rx.accounts.models import PasswordReset, User
from compymac_rx.accounts.service import (
    AuthError,
    check_password_policy,
    normalise_email,
    password_hasher,
)
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.mailer import Mail, get_mailer
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)
TOKEN_MAX = 100
# One sender thread: mail leaves in order and a slow SMTP server never holds a request.
_outbox = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-outbox")


def reset_url(token: str) -> str:
    return f"{get_settings().public_url}{routes.RESET}?{urlencode({'token': token})}"


def _send(mail: Mail | None) -> None:
    if mail is None:
        return
    try:
        get_mailer().send(mail)
    except Exception:
        # The person asked and sees "check your mail"; the operator sees why none came.
        log.exception("mail to a user (%s) could not be sent", mail.subject)


def queue_mail(build: Callable[..., Mail | None], *args: object) -> None:
    """Run `build(*args)` on the outbox thread and send the mail it returns (if any). The
    caller answers at once, so neither its answer nor its timing says what `build` found."""

    def run() -> None:
        try:
            _send(build(*args))
        except Exception:
            log.exception("building a mail failed")

    _outbox.submit(run)


def flush_outbox() -> None:
    """Wait until every mail handed over so far has been sent (tests, shutdown)."""
    done: Future[None] = _outbox.submit(lambda: None)
    done.result(timeout=30)


def request_reset(email: str, *, ip: str = "", user_agent: str = "") -> None:
    """Mail a reset link when the email belongs to an active local account. Returns nothing
    either way, at once: the lookup, the link and the mail happen on the outbox thread, so
    the answer takes the same time whether or not the account exists. Throttled per email
    and per IP (a throttled request sends nothing)."""
    try:
        email = normalise_email(email)
    except AuthError:
        return
    throttled = bool(
        ratelimit.take("reset_email", f"email:{email}")
        or (ip and ratelimit.take("reset_ip", f"ip:{ip}"))
    )
    queue_mail(_new_link, email, throttled, ip, user_agent)


def _new_link(email: str, throttled: bool, ip: str, user_agent: str) -> Mail | None:
    """Blocking: store a link for an active local account and build its mail; audit either way."""
    settings = get_settings()
    mail: Mail | None = None
    with session_scope() as db:
        user = repository.get_user_by_email(db, email=email)
        usable = user is not None and user.is_active and bool(user.password_hash)
        outcome = "ok" if usable and not throttled else "refused" if throttled else "failed"
        if user is not None and usable and not throttled:
            token = secrets.token_urlsafe(32)
            now = utcnow()
            repository.add_password_reset(
                db,
                reset=PasswordReset(
                    token_hash=hash_token(token),
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + timedelta(minutes=settings.password_reset_ttl_minutes),
                ),
            )
            mail = Mail(
                to=email,
                subject="Reset your CompyMac RX password",
                text=(
                    "Someone (hopefully you) asked to reset the password of this account.\n"
                    f"Open this link within {settings.password_reset_ttl_minutes} minutes to "
                    f"choose a new one; it works once:\n{reset_url(token)}\n\n"
                    "If it was not you, ignore this message: your password stays as it is."
                ),
            )
        record_link_request("password.reset_request", user, email, outcome, ip, user_agent, db=db)
    return mail


def record_link_request(
    action: str,
    user: User | None,
    email: str,
    outcome: str,
    ip: str | None,
    user_agent: str | None,
    *,
    db: Session | None = None,
) -> None:
    """The audit event of an emailed-link request (reset, verification, magic link)."""
    audit.record(
        action,
        subject_id=user.id if user else None,
        target=f"user:{user.id}" if user else "",
        outcome=outcome,
        detail={"email": email, "reason": "" if outcome == "ok" else "no mail sent"},
        ip=ip,
        user_agent=user_agent,
        db=db,
    )


def reset_link_usable(token: str) -> bool:
    if not token or len(token) > TOKEN_MAX:
        return False
    with session_scope() as db:
        return (
            repository.find_usable_reset(db, token_hash=hash_token(token), now=utcnow()) is not None
        )


@revocations.changes_sessions
def reset_password(token: str, new_password: str, *, ip: str = "", user_agent: str = "") -> None:
    """Use a reset link: set the new password and end every sign-in of the account.

    The policy is checked before the link is used, so a weak password leaves it usable."""
    if not token or len(token) > TOKEN_MAX:
        raise AuthError("reset_link")
    token_hash = hash_token(token)
    with session_scope() as db:
        found = repository.find_usable_reset(db, token_hash=token_hash, now=utcnow())
        user = repository.get_user(db, user_id=found.user_id) if found else None
    if user is None:
        raise AuthError("reset_link")
    check_password_policy(new_password, user.email)
    new_hash = password_hasher().hash(new_password)
    with session_scope() as db:
        now = utcnow()
        user_id = repository.use_password_reset(db, token_hash=token_hash, now=now)
        if user_id is None:  # used by a racing request a moment ago, or just expired
            raise AuthError("reset_link")
        repository.set_password_hash(db, user_id=user_id, password_hash=new_hash)
        ended = repository.revoke_user_auth_sessions(db, user_id=user_id, now=now)
        repository.forget_user_resets(db, user_id=user_id, now=now)
        audit.record(
            "password.reset",
            actor_id=user_id,
            subject_id=user_id,
            target=f"user:{user_id}",
            detail={"sessions_ended": ended},
            ip=ip,
            user_agent=user_agent,
            db=db,
        )

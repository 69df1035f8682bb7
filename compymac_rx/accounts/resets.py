"""Mailed links (password reset, address confirmation, sign-in by link) and the outbox
that sends them; the reset flow itself.

Asking for a link gives the same answer, after the same work, whether or not the email has
an account: the request only counts the attempt and hands the rest (lookup, link, mail) to a
background thread, so neither the page nor its timing tells who has an account here.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from compymac_rx import ratelimit, routes
from compymac_rx.accounts import repository, revocations
from compymac_rx.accounts.models import PasswordReset, User
from compymac_rx.accounts.service import (
    AuthError,
    check_password_policy,
    normalise_email,
    password_hasher,
)
from compymac_rx.accounts.tokens import TOKEN_MAX as TOKEN_MAX
from compymac_rx.accounts.tokens import issue, link_url, redeem, usable
from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.mailer import Mail, get_mailer
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)
# One sender thread: mail leaves in order and a slow SMTP server never holds a request.
_outbox = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-outbox")


@dataclasses.dataclass(frozen=True)
class LinkRequest:
    """Someone asked for a link to be mailed to `email` (already counted: `throttled`)."""

    email: str
    throttled: bool
    ip: str
    user_agent: str


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


def queue_link(
    build: Callable[[LinkRequest], Mail | None],
    email: str,
    *,
    limits: tuple[ratelimit.LimitName, ratelimit.LimitName],
    ip: str,
    user_agent: str,
) -> None:
    """Ask for a mailed link: count the attempt (`limits`: the per-email and per-IP limiter
    names; a throttled request sends nothing) and hand `build` to the outbox thread. Returns
    at once, and the same for every email (an invalid one included)."""
    try:
        email = normalise_email(email)
    except AuthError:
        return
    by_email, by_ip = limits
    throttled = bool(
        ratelimit.take(by_email, f"email:{email}") or (ip and ratelimit.take(by_ip, f"ip:{ip}"))
    )
    queue_mail(build, LinkRequest(email, throttled, ip, user_agent))


def local_account(email: str) -> User | None:
    """Blocking: an active account that signs in here with a password, the only kind mailed
    links."""
    with session_scope() as db:
        user = repository.get_user_by_email(db, email=email)
    return user if user is not None and user.is_active and user.password_hash else None


def link_mail(
    action: str,
    request: LinkRequest,
    user: User | None,
    compose: Callable[[User], Mail],
    *,
    wanted: bool = True,
) -> Mail | None:
    """Blocking, on the outbox thread: the mail `compose` builds for `user` (an account that
    may have this link, and `wanted` it) unless throttled; the request is audited either way."""
    usable = user is not None and wanted
    outcome = "refused" if request.throttled else "ok" if usable else "failed"
    mail = compose(user) if user is not None and outcome == "ok" else None
    audit.record(
        action,
        subject_id=user.id if user else None,
        target=f"user:{user.id}" if user else "",
        outcome=outcome,
        detail={"email": request.email, "reason": "" if outcome == "ok" else "no mail sent"},
        ip=request.ip,
        user_agent=request.user_agent,
    )
    return mail


# --- resetting a forgotten password ---


def request_reset(email: str, *, ip: str = "", user_agent: str = "") -> None:
    """Mail a reset link when the email belongs to an active local account (queue_link)."""
    queue_link(_reset_mail, email, limits=("reset_email", "reset_ip"), ip=ip, user_agent=user_agent)


def _reset_mail(request: LinkRequest) -> Mail | None:
    user = local_account(request.email)
    return link_mail("password.reset_request", request, user, _compose_reset)


def _compose_reset(user: User) -> Mail:
    minutes = get_settings().password_reset_ttl_minutes
    with session_scope() as db:
        token = issue(db, PasswordReset, timedelta(minutes=minutes), user_id=user.id)
    return Mail(
        to=user.email,
        subject="Reset your CompyMac RX password",
        text=(
            "Someone (hopefully you) asked to reset the password of this account.\n"
            f"Open this link within {minutes} minutes to "
            f"choose a new one; it works once:\n{link_url(routes.RESET, token)}\n\n"
            "If it was not you, ignore this message: your password stays as it is."
        ),
    )


def reset_link_usable(token: str) -> bool:
    return usable(PasswordReset, token) is not None


@revocations.changes_sessions
def reset_password(token: str, new_password: str, *, ip: str = "", user_agent: str = "") -> None:
    """Use a reset link: set the new password and end every sign-in of the account.

    The policy is checked before the link is used, so a weak password leaves it usable."""
    found = usable(PasswordReset, token)
    with session_scope() as db:
        user = repository.get_user(db, user_id=found.user_id) if found else None
    if user is None:
        raise AuthError("reset_link")
    check_password_policy(new_password, user.email)
    new_hash = password_hasher().hash(new_password)
    with session_scope() as db:
        now = utcnow()
        used = redeem(db, PasswordReset, token, now=now)
        if used is None:  # used by a racing request a moment ago, or just expired
            raise AuthError("reset_link")
        user_id = used.user_id
        repository.set_password_hash(db, user_id=user_id, password_hash=new_hash)
        ended = repository.revoke_user_auth_sessions(db, user_id=user_id, now=now)
        repository.forget_unused(db, PasswordReset, now=now, user_id=user_id)
        audit.own(
            "password.reset",
            user_id,
            detail={"sessions_ended": ended},
            ip=ip,
            user_agent=user_agent,
            db=db,
        )

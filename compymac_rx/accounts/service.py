"""Sign-up, sign-in, sign-out and resolving a session token to the current user."""

from __future__ import annotations

import dataclasses
import functools
import re
import secrets
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from compymac_rx import crypto, ratelimit
from compymac_rx.accounts import invites, repository, revocations, tokens
from compymac_rx.accounts.models import (
    SECOND_FACTOR,
    AuthSession,
    CurrentUser,
    Invite,
    IssuerSignIn,
    OidcFlow,
    OneTimeToken,
    User,
    UserPublic,
)
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.audit import service as audit
from compymac_rx.db import new_id, session_scope, utcnow
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
    # One answer for "that email has an account" and every other refusal that depends on
    # it, so sign-up does not tell strangers who has an account here.
    "unavailable": "Could not create that account. If you already have one, sign in.",
    "closed": "Sign-up is closed on this server. Ask an administrator for an invite link.",
    "invite": "This sign-up needs a valid invite link: it may be used, expired or mistyped. "
    "Ask an administrator for a new one.",
    "origin": "The request came from another site and was refused.",
    "expired": "Your session has ended. Sign in again.",
    # The Account page and the password-reset pages.
    "current_password": "That is not your current password.",
    "no_password": "This account signs in elsewhere: it has no password here.",
    "last_admin": "You are the only administrator: make someone else an admin first.",
    "reset_link": "This reset link was used, has expired or is mistyped. Ask for a new one.",
    # Mailed links and two-factor (accounts/email_links.py, accounts/twofactor.py).
    "unverified": "Confirm your email address first: open the link we mailed you. "
    "No mail? Send it again below.",
    "verify_link": "This confirmation link was used, has expired or is mistyped. "
    "Sign in to get a new one.",
    "magic_link": "This sign-in link was used, has expired or is mistyped. Ask for a new one.",
    "code": "That code is not right. Try again, or use one of your recovery codes.",
    "second_factor": "That sign-in waited too long for its code. Sign in again.",
    "already_enrolled": "Two-factor sign-in is already on.",
    "no_user": "That account no longer exists.",
}

# Good news, shown on the sign-in page after a flow that ends there.
AUTH_NOTICES = {
    "deleted": "Your account and everything in it were deleted.",
    "reset": "Your password was changed. Sign in with the new one.",
    "sent": "If an account uses that email, a reset link is on its way. It works once, for "
    "a short time.",
    "verify_sent": "Check your mail: if that address has an account waiting for confirmation, "
    "a link to confirm it is on its way.",
    "verified": "Your email address is confirmed.",
    "magic_sent": "If an account uses that email, a sign-in link is on its way. It works once, "
    "for a short time.",
}


class AuthError(Exception):
    def __init__(self, code: str, retry_after: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


class SecondFactorNeeded(AuthError):
    """The first factor was right; the account has two-factor on. `pending` is the opaque
    token of the half-finished sign-in (a short-lived cookie), exchanged for a session by
    twofactor.complete_sign_in with a code."""

    def __init__(self, pending: str) -> None:
        super().__init__("second_factor_needed")
        self.pending = pending


class VerifyEmailFirst(AuthError):
    """EMAIL_VERIFICATION=required: the account exists but signs in only once a mailed
    link proved its address."""

    def __init__(self) -> None:
        super().__init__("unverified")


# A sign-in waiting for its second factor lasts this long.
SECOND_FACTOR_MINUTES = 5


def finish_sign_in(user: User, *, method: str, user_agent: str, ip: str) -> str:
    """The first factor passed: a session token, or SecondFactorNeeded when TOTP is on."""
    if user.totp_enabled_at is not None:
        ttl = timedelta(minutes=SECOND_FACTOR_MINUTES)
        with session_scope() as db:
            pending = tokens.issue(db, OneTimeToken, ttl, user_id=user.id, purpose=SECOND_FACTOR)
        raise SecondFactorNeeded(pending)
    token = start_session(user, user_agent=user_agent, ip=ip)
    audit.own(
        "signin",
        user.id,
        detail={} if method == "password" else {"method": method},
        ip=ip,
        user_agent=user_agent,
    )
    return token


@functools.cache
def password_hasher() -> PasswordHash:
    return PasswordHash.recommended()


@functools.cache
def _dummy_hash() -> str:
    return password_hasher().hash(secrets.token_urlsafe(16))


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


def check_current_password(user: User, password: str, *, audit_as: str = "") -> None:
    """AuthError("current_password") unless `password` is this account's (an account without
    one never matches); with `audit_as`, a wrong one is audited under that action."""
    stored = user.password_hash
    if stored and password_hasher().verify(password[:PASSWORD_MAX], stored):
        return
    if audit_as:
        audit.own(audit_as, user.id, outcome="failed", detail={"reason": "wrong current password"})
    raise AuthError("current_password")


def start_session(user: User, *, user_agent: str, ip: str) -> str:
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


def sign_up(
    email: str, password: str, *, invite: str = "", user_agent: str = "", ip: str = ""
) -> str:
    """Create an account and sign it in; returns the session token.

    SIGNUP decides who may: anyone (`open`), the holder of an unused invite (`invite`; with
    `closed` only the bootstrap link made at start works). Whether the email already has an
    account is never said: that refusal reads like the others ("unavailable"), and the
    password is hashed first either way, so the answer takes the same time.
    """
    email = normalise_email(email)
    check_password_policy(password, email)
    if ip and (wait := ratelimit.take("signup_ip", f"ip:{ip}")):
        raise AuthError("throttled", retry_after=wait)
    policy = get_settings().signup
    if not invite and policy != "open":
        raise AuthError(policy)  # "invite" or "closed": the same for every email
    if invite:
        # Checked before the email is looked at, so a bad link says "invite" for every email.
        found = tokens.usable(Invite, invite)
        if found is None or (policy == "closed" and not found.grants_admin):
            raise AuthError("invite")
    password_hash = password_hasher().hash(password)
    try:
        with session_scope() as db:
            # The insert comes first: the unique email decides (no check-then-insert race),
            # and on SQLite the transaction starts as a writer.
            user = repository.add_user(db, email=email, password_hash=password_hash, is_admin=False)
            grants_admin = False
            if invite:
                used = tokens.redeem(db, Invite, invite, now=utcnow())
                if used is None:  # taken by a racing sign-up a moment ago
                    raise AuthError("invite")
                grants_admin = used.grants_admin
            user.is_admin = invites.becomes_admin(
                db, user_id=user.id, email=email, grants=grants_admin
            )
            db.add(user)
            audit.own(
                "signup",
                user.id,
                detail={"invite": bool(invite), "admin": user.is_admin},
                ip=ip,
                user_agent=user_agent,
                db=db,
            )
    except IntegrityError:
        raise AuthError("unavailable") from None
    verification = get_settings().email_verification
    if verification != "off":
        from compymac_rx.accounts import email_links

        email_links.send_verification(user.id, ip=ip, user_agent=user_agent)
        if verification == "required":
            raise VerifyEmailFirst()
    return start_session(user, user_agent=user_agent, ip=ip)


def sign_in(email: str, password: str, *, user_agent: str = "", ip: str = "") -> str:
    """Check credentials, throttled per email and per IP. Returns the new session token."""
    by_email, by_ip = login_limiters()
    email = email.strip().lower()
    keys = ((by_email, f"email:{email}"), (by_ip, f"ip:{ip}"))
    # Each attempt takes its slot before the password is checked (one atomic step per
    # limiter), so a parallel burst gets exactly as many guesses as the limit allows.
    taken: list[tuple[RateLimiter, str]] = []
    for limiter, key in keys:
        if wait := limiter.take(key):
            for earlier, earlier_key in taken:
                earlier.give_back(earlier_key)
            audit.record(
                "signin",
                outcome="refused",
                detail={"email": email, "reason": "throttled"},
                ip=ip,
                user_agent=user_agent,
            )
            raise AuthError("throttled", retry_after=wait)
        taken.append((limiter, key))
    with session_scope() as db:
        user = repository.get_user_by_email(db, email=email)
    # Verify against a dummy hash for unknown emails so timing does not reveal accounts.
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    valid = password_hasher().verify(password[:PASSWORD_MAX], stored)
    if not (valid and user is not None and user.is_active and user.password_hash):
        audit.record(
            "signin",
            subject_id=user.id if user else None,
            outcome="failed",
            detail={"email": email, "reason": "disabled" if valid and user else "invalid"},
            ip=ip,
            user_agent=user_agent,
        )
        raise AuthError("invalid")  # the slots taken stay: they are the failures counted
    by_email.reset(f"email:{email}")
    by_ip.give_back(f"ip:{ip}")
    if get_settings().email_verification == "required" and user.email_verified_at is None:
        # Said only after the right password: it tells nothing to someone guessing.
        audit.record(
            "signin",
            subject_id=user.id,
            target=f"user:{user.id}",
            outcome="refused",
            detail={"email": email, "reason": "unverified"},
            ip=ip,
            user_agent=user_agent,
        )
        raise VerifyEmailFirst()
    return finish_sign_in(user, method="password", user_agent=user_agent, ip=ip)


@revocations.changes_sessions
def sign_out(token: str) -> None:
    with session_scope() as db:
        row = repository.get_auth_session_by_token(db, token_hash=hash_token(token))
        if repository.revoke_auth_session(db, token_hash=hash_token(token), now=utcnow()) and row:
            audit.own("signout", row.user_id, target=f"session:{row.id}", db=db)


# "Last seen" moves at most this often, so resolving a user is rarely a write.
LAST_SEEN_EVERY = timedelta(seconds=60)


def _touch(db: Session, row: AuthSession, now: datetime) -> None:
    if row.last_seen_at is None or now - row.last_seen_at >= LAST_SEEN_EVERY:
        repository.touch_auth_session(db, auth_session_id=row.id, now=now)


def resolve_user(token: str | None) -> CurrentUser | None:
    """The user behind a session token, or None if it is unknown, revoked or expired."""
    if not token:
        return None
    with session_scope() as db:
        now = utcnow()
        found = repository.get_live_auth_session(db, token_hash=hash_token(token), now=now)
        if found is None:
            return None
        row, user = found
        _touch(db, row, now)
        return CurrentUser(id=user.id, email=user.email, is_admin=user.is_admin)


# --- sign-in through an OIDC issuer ---

AUTH_ERROR_MESSAGES.update(
    {
        "state": "That sign-in link was used or is too old. Start again.",
        "issuer": "The identity provider's answer could not be verified. Try again.",
        "denied": "Sign-in was cancelled at the identity provider.",
        "role": "Your account is signed in but not allowed to use this app: it lacks the "
        "'{role}' role. Ask an administrator to grant it.",
        "email_taken": "Another account already uses this email address. Ask an administrator.",
        "disabled": "This account is disabled. Ask an administrator.",
    }
)


@dataclasses.dataclass(frozen=True)
class IssuerTokens:
    """What an issuer answered, ready to be kept (encrypted) with the app session."""

    refresh_token: str | None
    id_token: str
    access_expires_at: datetime | None
    sid: str | None


def token_context(kind: str, auth_session_id: str) -> str:
    return f"oidc-{kind}:{auth_session_id}"


def user_for_identity(
    *, issuer: str, subject: str, email: str | None, name: str, is_admin: bool | None
) -> tuple[CurrentUser, str]:
    """The user linked to (issuer, subject), created on first sign-in, and the link's id.
    Never linked by email.

    `email` is given only when the issuer says it is verified; `is_admin` None leaves the
    app's own flag alone (the issuer does not manage roles)."""
    with session_scope() as db:
        identity = repository.get_identity(db, issuer=issuer, subject=subject)
        if identity is None:
            if email is not None and repository.get_user_by_email(db, email=email) is not None:
                raise AuthError("email_taken")
            # Unique and clearly not deliverable: an unverified address is never stored.
            stored = email or f"{new_id()}@unverified.invalid"
            user = repository.add_user(db, email=stored, password_hash=None, is_admin=False)
            identity = repository.add_identity(db, user_id=user.id, issuer=issuer, subject=subject)
        user = repository.get_user(db, user_id=identity.user_id)  # type: ignore[assignment]
        assert user is not None
        if not user.is_active:
            raise AuthError("disabled")
        if name:
            user.display_name = name[:120]
        if is_admin is not None:
            user.is_admin = is_admin
        identity.last_login_at = utcnow()
        db.add_all([user, identity])
        return CurrentUser(id=user.id, email=user.email, is_admin=user.is_admin), identity.id


def start_issuer_session(
    *, user_id: str, identity_id: str, provider: str, tokens: IssuerTokens, user_agent: str, ip: str
) -> str:
    token = secrets.token_urlsafe(32)
    auth_session_id = new_id()
    with session_scope() as db:
        audit.own(
            "signin", user_id, detail={"provider": provider}, ip=ip, user_agent=user_agent, db=db
        )
        row = repository.add_auth_session(
            db,
            user_id=user_id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(hours=get_settings().session_ttl_hours),
            user_agent=user_agent,
            ip=ip,
            auth_session_id=auth_session_id,
        )
        row.provider, row.identity_id = provider, identity_id
        _store_tokens(row, tokens)
        db.add(row)
    return token


def _store_tokens(row: AuthSession, tokens: IssuerTokens) -> None:
    row.provider_session_id = tokens.sid or row.provider_session_id
    row.access_expires_at = tokens.access_expires_at
    row.id_token_enc = crypto.encrypt(tokens.id_token, context=token_context("id", row.id))
    if tokens.refresh_token:
        row.refresh_token_enc = crypto.encrypt(
            tokens.refresh_token, context=token_context("refresh", row.id)
        )


def refreshed(auth_session_id: str, tokens: IssuerTokens, *, is_admin: bool | None) -> None:
    """Keep a refresh's new tokens, and the roles re-read from them."""
    with session_scope() as db:
        row = repository.get_auth_session_by_id(db, auth_session_id=auth_session_id)
        if row is None:
            return
        _store_tokens(row, tokens)
        db.add(row)
        if is_admin is not None:
            user = repository.get_user(db, user_id=row.user_id)
            if user is not None:
                user.is_admin = is_admin
                db.add(user)


def issuer_tokens(row: AuthSession | IssuerSignIn) -> tuple[str | None, str | None]:
    """(refresh token, ID token) of an issuer-backed session, decrypted.

    Raises crypto.CryptoError when they were sealed under a key no longer in SECRET_KEYS:
    the caller ends that session (the person signs in again)."""
    refresh = id_token = None
    if row.refresh_token_enc:
        refresh = crypto.decrypt(row.refresh_token_enc, context=token_context("refresh", row.id))
    if row.id_token_enc:
        id_token = crypto.decrypt(row.id_token_enc, context=token_context("id", row.id))
    return refresh, id_token


@revocations.changes_sessions
def end_session(auth_session_id: str) -> None:
    """The issuer refused a refresh (or its tokens became unreadable): the sign-in ends."""
    with session_scope() as db:
        row = repository.get_auth_session_by_id(db, auth_session_id=auth_session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            db.add(row)
            audit.record(
                "session.end",
                subject_id=row.user_id,
                target=f"session:{row.id}",
                detail={"reason": "issuer"},
                db=db,
            )


def resolve_session(token: str | None) -> tuple[CurrentUser, IssuerSignIn] | None:
    """Like resolve_user, with the session row (for its issuer tokens)."""
    if not token:
        return None
    with session_scope() as db:
        found = repository.get_live_auth_session(db, token_hash=hash_token(token), now=utcnow())
        if found is None:
            return None
        row, user = found
        _touch(db, row, utcnow())
        sign_in = IssuerSignIn(
            id=row.id,
            provider=row.provider,
            access_expires_at=row.access_expires_at,
            refresh_token_enc=row.refresh_token_enc,
            id_token_enc=row.id_token_enc,
        )
        return CurrentUser(id=user.id, email=user.email, is_admin=user.is_admin), sign_in


def new_oidc_flow(*, nonce: str, code_verifier: str, state: str, next_path: str) -> None:
    with session_scope() as db:
        repository.delete_old_oidc_flows(db, before=utcnow())
        flow_id = new_id()
        repository.add(
            db,
            row=OidcFlow(
                id=flow_id,
                state_hash=hash_token(state),
                nonce=nonce,
                code_verifier_enc=crypto.encrypt(code_verifier, context=f"oidc-flow:{flow_id}"),
                next_path=next_path,
                expires_at=utcnow() + timedelta(minutes=10),
            ),
        )


def consume_oidc_flow(state: str) -> tuple[str, str, str] | None:
    """(nonce, code verifier, next path) of a flow, once; None when unknown, used or old."""
    with session_scope() as db:
        flow = repository.use_once(db, OidcFlow, now=utcnow(), state_hash=hash_token(state))
        if flow is None:
            return None
        try:
            verifier = crypto.decrypt(flow.code_verifier_enc, context=f"oidc-flow:{flow.id}")
        except crypto.CryptoError:
            return None  # sealed under a key since removed: the person starts again
        return flow.nonce, verifier, flow.next_path


@revocations.changes_sessions
def end_issuer_sessions(*, issuer: str, subject: str | None, sid: str | None) -> int:
    with session_scope() as db:
        ended = repository.revoke_issuer_sessions(
            db, issuer=issuer, subject=subject, sid=sid, now=utcnow()
        )
        if ended:
            identity = repository.get_identity(db, issuer=issuer, subject=subject or "")
            audit.record(
                "session.end",
                subject_id=identity.user_id if identity else None,
                target=f"issuer-subject:{subject or ''}",
                detail={"reason": "issuer logout", "count": ended},
                db=db,
            )
        return ended


# --- the admin page (identity.directory checks the actor before calling these) ---


def is_active_admin(user_id: str) -> bool:
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
        return user is not None and user.is_active and user.is_admin


def list_users(*, limit: int, offset: int = 0, query: str = "") -> list[UserPublic]:
    with session_scope() as db:
        return [
            UserPublic(u.id, u.email, u.display_name, u.is_active, u.is_admin)
            for u in repository.list_users(db, limit=limit, offset=offset, query=query)
        ]


@revocations.changes_sessions
def set_user_flags(
    user_id: str,
    *,
    actor_id: str | None = None,
    is_active: bool | None = None,
    is_admin: bool | None = None,
) -> None:
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
        if user is None:
            raise AuthError("unknown")
        changes: list[str] = []
        if is_active is not None:
            user.is_active = is_active
            changes.append("user.enable" if is_active else "user.disable")
            if not is_active:
                repository.revoke_user_auth_sessions(db, user_id=user_id, now=utcnow())
        if is_admin is not None:
            user.is_admin = is_admin
            changes.append("user.grant_admin" if is_admin else "user.revoke_admin")
        db.add(user)
        for action in changes:
            audit.record(
                action, actor_id=actor_id, subject_id=user_id, target=f"user:{user_id}", db=db
            )


def subject_for_user(user_id: str, *, issuer: str) -> str | None:
    with session_scope() as db:
        identity = repository.get_identity_of_user(db, user_id=user_id, issuer=issuer)
        return identity.subject if identity else None


def user_for_subject(*, issuer: str, subject: str) -> str | None:
    """Our user id linked to (issuer, subject), if that person has signed in here."""
    with session_scope() as db:
        identity = repository.get_identity(db, issuer=issuer, subject=subject)
        return identity.user_id if identity else None


@revocations.changes_sessions
def set_admin_for_subject(*, issuer: str, subject: str, admin: bool) -> None:
    with session_scope() as db:
        identity = repository.get_identity(db, issuer=issuer, subject=subject)
        user = repository.get_user(db, user_id=identity.user_id) if identity else None
        if user is not None:
            user.is_admin = admin
            db.add(user)

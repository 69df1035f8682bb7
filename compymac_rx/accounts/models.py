"""Users and their server-side sign-in sessions."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from compymac_rx.db import new_id, utcnow


class SingleUse(SQLModel):
    """A row that works once, until it expires (invites, links, sign-in flows): the
    repository's use_once sets `used_at` in one conditional UPDATE."""

    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class UserToken(SingleUse):
    """A single-use token of one account: only the token's SHA-256 is kept."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str | None = Field(default=None, max_length=255)
    display_name: str = Field(default="", max_length=120)
    is_admin: bool = False
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # When a mailed link proved the address (EMAIL_VERIFICATION); None: not yet.
    email_verified_at: datetime | None = None
    # TOTP two-factor: the secret, encrypted (crypto, bound to the user id). Set while
    # enrolling; `totp_enabled_at` marks it confirmed by a code, and from then on every
    # sign-in asks for one. `totp_last_step` is the time step of the last code accepted,
    # so a code works once.
    totp_secret_enc: str | None = None
    totp_enabled_at: datetime | None = None
    totp_last_step: int | None = None
    # The colour mode the person chose ("light", "dark", "system"): kept here so that it
    # follows them to a new browser (accounts/appearance.py).
    color_mode: str = Field(
        default="system", max_length=8, sa_column_kwargs={"server_default": "system"}
    )


class AuthSession(SQLModel, table=True):
    """A sign-in. The browser holds only the opaque token; the row holds its hash."""

    __tablename__ = "auth_sessions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime | None = None
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)
    # Moved forward when the session is used (at most once a minute): the Account page's
    # "last seen". None for rows older than the column.
    last_seen_at: datetime | None = None
    # Set for sign-ins through an OIDC issuer ("local" otherwise). The issuer's tokens are
    # kept encrypted (crypto.encrypt, bound to this row's id); the browser never sees them.
    provider: str = Field(default="local", max_length=32)
    identity_id: str | None = Field(
        default=None, foreign_key="identities.id", index=True, max_length=32, ondelete="CASCADE"
    )
    provider_session_id: str | None = Field(default=None, index=True, max_length=255)
    refresh_token_enc: str | None = None
    id_token_enc: str | None = None
    access_expires_at: datetime | None = None


class Identity(SQLModel, table=True):
    """A person at an issuer: (issuer, subject) -> user. Never matched by email."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_identities_issuer_subject"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime = Field(default_factory=utcnow)


class OidcFlow(SingleUse, table=True):
    """One sign-in attempt in flight: consumed once by the callback (state and nonce replay)."""

    __tablename__ = "oidc_flows"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    state_hash: str = Field(max_length=64, unique=True, index=True)
    nonce: str = Field(max_length=128)
    code_verifier_enc: str
    next_path: str = Field(default="/", max_length=500)


@dataclasses.dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as handlers see it; resolved on the server from the cookie."""

    id: str
    email: str
    is_admin: bool


class Invite(SingleUse, table=True):
    """A single-use sign-up link an admin made (or the bootstrap link printed at start).

    Only the token's hash is kept; the link is shown once, to whoever made it."""

    __tablename__ = "invites"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # None: the bootstrap link made at start, when no admin exists yet.
    created_by: str | None = Field(
        default=None, foreign_key="users.id", max_length=32, ondelete="CASCADE"
    )
    grants_admin: bool = False


class AdminClaim(SQLModel, table=True):
    """At most one row, ever: the account that became the first admin.

    The fixed primary key is what makes "the first account becomes admin" atomic: two
    sign-ups racing both try to insert row 1, the database lets exactly one succeed."""

    __tablename__ = "admin_claim"

    id: int = Field(default=1, primary_key=True)
    # Not a foreign key: deleting that account must not reopen the claim.
    user_id: str = Field(max_length=32)
    claimed_at: datetime = Field(default_factory=utcnow)


class UsedToken(SQLModel, table=True):
    """A one-time token already seen (a back-channel logout token's jti), kept until it
    expires so a replay is refused."""

    __tablename__ = "used_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)


class PasswordReset(UserToken, table=True):
    """A password-reset link in flight: short-lived."""

    __tablename__ = "password_resets"


@dataclasses.dataclass(frozen=True)
class SignInPublic:
    """One of the user's live sign-ins, as the Account page lists it."""

    id: str
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def signin_public(row: AuthSession, *, current: bool) -> SignInPublic:
    seen = row.last_seen_at or row.created_at
    return SignInPublic(row.id, row.user_agent, row.ip, row.created_at, seen, current)


# What a OneTimeToken is for.
VERIFY_EMAIL = "verify_email"
MAGIC_LINK = "magic_link"
SECOND_FACTOR = "second_factor"


class OneTimeToken(UserToken, table=True):
    """A short-lived token for one `purpose`: an email-verification link, a sign-in link,
    or a sign-in waiting for its second factor."""

    __tablename__ = "one_time_tokens"

    purpose: str = Field(max_length=20)


class RecoveryCode(SQLModel, table=True):
    """A two-factor recovery code: shown once at enrollment, only its hash kept, used once."""

    __tablename__ = "recovery_codes"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = None


@dataclasses.dataclass(frozen=True)
class UserPublic:
    """An account as the admin page lists it."""

    id: str
    email: str
    display_name: str
    is_active: bool
    is_admin: bool


@dataclasses.dataclass(frozen=True)
class IssuerSignIn:
    """A live sign-in as an identity provider needs it: its issuer's tokens (still encrypted)
    and when the access token expires."""

    id: str
    provider: str
    access_expires_at: datetime | None
    refresh_token_enc: str | None
    id_token_enc: str | None

"""Create, list, revoke and check personal access tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from compymac_rx.audit import service as audit
from compymac_rx.db import session_scope, utcnow
from compymac_rx.tokens import repository
from compymac_rx.tokens.models import SCOPES, AccessToken, TokenPublic, TokenUser

PREFIX = "cmx_"
MAX_DAYS = 366
MAX_TOKENS = 50
# last_used_at is written at most this often per token: not one write per API call.
TOUCH_EVERY = timedelta(seconds=60)


class TokenError(Exception):
    """A refusal worth showing as it is."""


def hash_token(secret: str) -> str:
    # A 256-bit random secret needs no slow hash: SHA-256 cannot be brute-forced back.
    return hashlib.sha256(secret.encode()).hexdigest()


def _public(row: AccessToken) -> TokenPublic:
    return TokenPublic(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked_at is not None,
    )


def create_token(
    user_id: str, name: str, *, days: int, scopes: list[str]
) -> tuple[TokenPublic, str]:
    """A new token and its secret; the secret is returned once and never again."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise TokenError("Give the token a name of 1 to 100 characters.")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"A token can last 1 to {MAX_DAYS} days.")
    wanted = {scope for scope in scopes}
    if not wanted or not wanted <= set(SCOPES):
        raise TokenError("Choose read, or read and write.")
    wanted.add("read")  # writing without reading back is of no use
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope() as db:
        if len(repository.list_tokens(db, user_id=user_id)) >= MAX_TOKENS:
            raise TokenError(f"You have {MAX_TOKENS} tokens already. Revoke some first.")
        row = repository.add_token(
            db,
            user_id=user_id,
            row=AccessToken(
                user_id=user_id,
                name=name,
                token_hash=hash_token(secret),
                prefix=secret[: len(PREFIX) + 4],
                scopes=" ".join(s for s in SCOPES if s in wanted),
                created_at=now,
                expires_at=now + timedelta(days=days),
            ),
        )
        # Name, scopes and lifetime, never the secret nor its hash or prefix.
        audit.own(
            "token.create",
            user_id,
            target=f"token:{row.id}",
            detail={"name": name, "scopes": row.scopes, "days": days},
            db=db,
        )
        return _public(row), secret


def list_tokens(user_id: str) -> list[TokenPublic]:
    with session_scope() as db:
        return [_public(row) for row in repository.list_tokens(db, user_id=user_id)]


def revoke_token(user_id: str, token_id: str) -> bool:
    """True when the token was revoked now (False: not the user's, or revoked before)."""
    with session_scope() as db:
        revoked = repository.revoke(db, user_id=user_id, token_id=token_id, now=utcnow())
        if revoked:
            audit.own("token.revoke", user_id, target=f"token:{token_id}", db=db)
        return revoked


def authenticate(secret: str) -> TokenUser | None:
    """The user and scopes behind a bearer secret; None when unknown, expired or revoked."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = utcnow()
    with session_scope() as db:
        row = repository.find_valid(db, token_hash=hash_token(secret), now=now)
        if row is None:
            return None
        if row.last_used_at is None or now - _aware(row.last_used_at) > TOUCH_EVERY:
            repository.touch(db, user_id=row.user_id, token_id=row.id, now=now)
        return TokenUser(row.user_id, row.id, frozenset(row.scopes.split()))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

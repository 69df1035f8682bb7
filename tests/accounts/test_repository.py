"""accounts.repository on both databases: owner scoping and the single-use flows.

Every single-use record (one-time token, recovery code, password reset, invite) is checked the
same way: the first use works (so the refusals below are not a dead mechanism), a second use is
refused, and an expired one is refused.
"""

from __future__ import annotations

from datetime import timedelta

from compymac_rx.accounts import repository
from compymac_rx.accounts.models import Invite, OidcFlow, OneTimeToken, PasswordReset
from compymac_rx.db import session_scope, utcnow
from tests.factories import make_user

HOUR = timedelta(hours=1)


def add_token(user_id: str, token_hash: str, purpose: str, ttl: timedelta = HOUR) -> None:
    with session_scope() as db:
        token = OneTimeToken(
            token_hash=token_hash, user_id=user_id, purpose=purpose, expires_at=utcnow() + ttl
        )
        repository.add(db, row=token)


def use_token(token_hash: str, purpose: str) -> str | None:
    with session_scope() as db:
        row = repository.use_once(
            db, OneTimeToken, now=utcnow(), token_hash=token_hash, purpose=purpose
        )
        return None if row is None else row.user_id


def test_a_one_time_token_works_once_for_its_purpose_only() -> None:
    user = make_user()
    add_token(user.id, "a" * 64, "verify_email")
    assert use_token("a" * 64, "magic_link") is None  # meant for something else
    assert use_token("a" * 64, "verify_email") == user.id
    assert use_token("a" * 64, "verify_email") is None
    with session_scope() as db:
        found = repository.find_usable(
            db, OneTimeToken, now=utcnow(), token_hash="a" * 64, purpose="verify_email"
        )
    assert found is None


def test_an_expired_one_time_token_is_refused() -> None:
    user = make_user()
    add_token(user.id, "b" * 64, "magic_link", ttl=-timedelta(seconds=1))
    add_token(user.id, "c" * 64, "magic_link")  # the control: a live one works
    assert use_token("b" * 64, "magic_link") is None
    assert use_token("c" * 64, "magic_link") == user.id


def test_forgetting_one_time_tokens_touches_one_user_and_purpose() -> None:
    alice, bob = make_user(), make_user()
    add_token(alice.id, "d" * 64, "magic_link")
    add_token(alice.id, "e" * 64, "verify_email")
    add_token(bob.id, "f" * 64, "magic_link")
    with session_scope() as db:
        repository.forget_unused(
            db, OneTimeToken, now=utcnow(), user_id=alice.id, purpose="magic_link"
        )
    assert use_token("d" * 64, "magic_link") is None
    assert use_token("e" * 64, "verify_email") == alice.id
    assert use_token("f" * 64, "magic_link") == bob.id


def test_a_recovery_code_works_once_and_only_for_its_owner() -> None:
    alice, bob = make_user(), make_user()
    with session_scope() as db:
        repository.replace_recovery_codes(db, user_id=alice.id, code_hashes=["r1", "r2"])
    with session_scope() as db:
        assert not repository.use_recovery_code(db, user_id=bob.id, code_hash="r1", now=utcnow())
        assert repository.count_unused_recovery_codes(db, user_id=bob.id) == 0
        assert repository.use_recovery_code(db, user_id=alice.id, code_hash="r1", now=utcnow())
    with session_scope() as db:
        assert not repository.use_recovery_code(db, user_id=alice.id, code_hash="r1", now=utcnow())
        assert repository.count_unused_recovery_codes(db, user_id=alice.id) == 1
        # New codes replace the old ones: the unused r2 stops working.
        repository.replace_recovery_codes(db, user_id=alice.id, code_hashes=["r3"])
    with session_scope() as db:
        assert not repository.use_recovery_code(db, user_id=alice.id, code_hash="r2", now=utcnow())
        assert repository.use_recovery_code(db, user_id=alice.id, code_hash="r3", now=utcnow())


def add_reset(user_id: str, token_hash: str, ttl: timedelta = HOUR) -> None:
    with session_scope() as db:
        reset = PasswordReset(token_hash=token_hash, user_id=user_id, expires_at=utcnow() + ttl)
        repository.add(db, row=reset)


def use_reset(token_hash: str) -> str | None:
    with session_scope() as db:
        row = repository.use_once(db, PasswordReset, now=utcnow(), token_hash=token_hash)
        return None if row is None else row.user_id


def test_a_password_reset_works_once_and_not_after_expiry() -> None:
    user = make_user()
    add_reset(user.id, "1" * 64)
    add_reset(user.id, "2" * 64, ttl=-timedelta(seconds=1))
    assert use_reset("2" * 64) is None
    assert use_reset("1" * 64) == user.id
    assert use_reset("1" * 64) is None


def test_forgetting_resets_ends_the_users_other_links_only() -> None:
    alice, bob = make_user(), make_user()
    add_reset(alice.id, "3" * 64)
    add_reset(bob.id, "4" * 64)
    with session_scope() as db:
        repository.forget_unused(db, PasswordReset, now=utcnow(), user_id=alice.id)
    assert use_reset("3" * 64) is None
    assert use_reset("4" * 64) == bob.id


def test_an_invite_is_used_once_and_not_after_expiry() -> None:
    admin = make_user()
    with session_scope() as db:
        for token_hash, ttl in (("i" * 64, HOUR), ("j" * 64, -timedelta(seconds=1))):
            invite = Invite(token_hash=token_hash, created_by=admin.id, expires_at=utcnow() + ttl)
            repository.add(db, row=invite)
    with session_scope() as db:
        assert repository.use_once(db, Invite, now=utcnow(), token_hash="j" * 64) is None
        used = repository.use_once(db, Invite, now=utcnow(), token_hash="i" * 64)
        assert used is not None and used.created_by == admin.id
    with session_scope() as db:
        assert repository.use_once(db, Invite, now=utcnow(), token_hash="i" * 64) is None


def test_a_totp_step_is_taken_once_and_never_an_older_one() -> None:
    user = make_user()
    with session_scope() as db:
        assert repository.take_totp_step(db, user_id=user.id, step=100)
        assert not repository.take_totp_step(db, user_id=user.id, step=100)
        assert not repository.take_totp_step(db, user_id=user.id, step=99)
        assert repository.take_totp_step(db, user_id=user.id, step=101)


def test_a_user_sees_and_ends_only_their_own_sign_in_sessions() -> None:
    alice, bob = make_user(), make_user()  # make_user signs each in once
    now = utcnow()
    with session_scope() as db:
        [alices] = repository.list_live_auth_sessions(db, user_id=alice.id, now=now)
        [bobs] = repository.list_live_auth_sessions(db, user_id=bob.id, now=now)
        assert alices.id != bobs.id
        assert not repository.revoke_user_auth_session(
            db, user_id=bob.id, auth_session_id=alices.id, now=now
        )
    with session_scope() as db:
        assert [s.id for s in repository.list_live_auth_sessions(db, user_id=alice.id, now=now)]
        assert repository.revoke_user_auth_session(
            db, user_id=alice.id, auth_session_id=alices.id, now=now
        )
    with session_scope() as db:
        assert repository.list_live_auth_sessions(db, user_id=alice.id, now=now) == []
        assert [s.id for s in repository.list_live_auth_sessions(db, user_id=bob.id, now=now)] == [
            bobs.id
        ]


def test_revoking_a_users_sessions_leaves_other_users_signed_in() -> None:
    alice, bob = make_user(), make_user()
    now = utcnow()
    with session_scope() as db:
        assert repository.revoke_user_auth_sessions(db, user_id=alice.id, now=now) == 1
    with session_scope() as db:
        assert repository.list_live_auth_sessions(db, user_id=alice.id, now=now) == []
        assert len(repository.list_live_auth_sessions(db, user_id=bob.id, now=now)) == 1


def add_flow(state_hash: str, ttl: timedelta = HOUR) -> None:
    flow = OidcFlow(
        state_hash=state_hash, nonce="n", code_verifier_enc="v", expires_at=utcnow() + ttl
    )
    with session_scope() as db:
        repository.add(db, row=flow)


def consume_flow(state_hash: str) -> bool:
    with session_scope() as db:
        return repository.use_once(db, OidcFlow, now=utcnow(), state_hash=state_hash) is not None


def test_an_oidc_flow_is_consumed_once_and_not_after_expiry() -> None:
    add_flow("s" * 64)
    add_flow("t" * 64, ttl=-timedelta(seconds=1))
    assert not consume_flow("t" * 64)
    assert consume_flow("s" * 64)
    assert not consume_flow("s" * 64)


def test_a_token_is_remembered_once() -> None:
    def remember(token_hash: str) -> bool:
        with session_scope() as db:
            return repository.remember_token(
                db, token_hash=token_hash, expires_at=utcnow() + HOUR, now=utcnow()
            )

    assert remember("u" * 64)
    assert not remember("u" * 64)  # a replay
    assert remember("w" * 64)

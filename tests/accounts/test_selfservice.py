"""The Account page's services: sign-ins, password change, account deletion (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from compymac_rx import workspaces
from compymac_rx.accounts import selfservice
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import AuthSession, PasswordReset, User
from compymac_rx.chats import service as chats
from compymac_rx.chats.models import AgentSession, Message
from compymac_rx.db import session_scope
from compymac_rx.jobs.models import Job
from compymac_rx.keys.models import ApiKey, ModelPreference
from compymac_rx.keys.service import set_default_model
from compymac_rx.settings import get_settings
from tests.factories import PASSWORD, signed_in_token, wait_for_job

NEW = "a different passphrase"


def test_list_marks_the_current_sign_in_and_shows_only_the_users_own() -> None:
    user, token = signed_in_token("me@example.com")
    accounts.sign_in("me@example.com", PASSWORD, user_agent="Firefox/1", ip="198.51.100.4")
    signed_in_token("someone@example.com")
    listed = selfservice.list_signins(user.id, current_token=token)
    assert len(listed) == 2
    assert [s.current for s in listed].count(True) == 1
    other = next(s for s in listed if not s.current)
    assert (other.user_agent, other.ip) == ("Firefox/1", "198.51.100.4")
    assert other.last_seen_at >= other.created_at


def test_end_one_only_ends_the_users_own_and_end_others_keeps_this_one() -> None:
    user, token = signed_in_token("one@example.com")
    stranger, stranger_token = signed_in_token("two@example.com")
    second = accounts.sign_in("one@example.com", PASSWORD)
    third = accounts.sign_in("one@example.com", PASSWORD)
    [theirs] = selfservice.list_signins(stranger.id, current_token=stranger_token)
    assert not selfservice.end_signin(user.id, theirs.id)  # not yours: nothing happens
    assert accounts.resolve_user(stranger_token) is not None
    target = next(s for s in selfservice.list_signins(user.id, current_token=second) if s.current)
    assert selfservice.end_signin(user.id, target.id)
    assert not selfservice.end_signin(user.id, target.id)  # already ended
    assert accounts.resolve_user(second) is None
    assert selfservice.end_other_signins(user.id, current_token=token) == 1
    assert accounts.resolve_user(third) is None
    assert accounts.resolve_user(token) is not None


def test_change_password_needs_the_current_one_and_ends_other_sign_ins() -> None:
    user, token = signed_in_token("pw@example.com")
    other = accounts.sign_in("pw@example.com", PASSWORD)
    with pytest.raises(accounts.AuthError) as wrong:
        selfservice.change_password(
            user.id, current_token=token, current_password="nope nope nope", new_password=NEW
        )
    assert wrong.value.code == "current_password"
    with pytest.raises(accounts.AuthError) as weak:
        selfservice.change_password(
            user.id, current_token=token, current_password=PASSWORD, new_password="short"
        )
    assert weak.value.code == "password"
    assert accounts.resolve_user(other) is not None  # refusals change nothing
    ended = selfservice.change_password(
        user.id, current_token=token, current_password=PASSWORD, new_password=NEW
    )
    assert ended == 1
    assert accounts.resolve_user(other) is None and accounts.resolve_user(token) is not None
    with pytest.raises(accounts.AuthError):
        accounts.sign_in("pw@example.com", PASSWORD)
    assert accounts.sign_in("pw@example.com", NEW)


def _count(model: type, user_id: str) -> int:
    with session_scope() as db:
        return len(db.exec(select(model).where(model.user_id == user_id)).all())  # type: ignore[attr-defined]


def test_delete_account_removes_everything_of_the_user_and_nothing_else(data_dir: Path) -> None:
    signed_in_token("admin@example.com")  # the first account: the admin
    user, token = signed_in_token("leaving@example.com")
    neighbour, _ = signed_in_token("staying@example.com")
    for owner in (user, neighbour):
        chat = chats.create_session(owner.id)
        job_id = chats.send_message(owner.id, chat.id, "hello")
        wait_for_job(owner.id, job_id)
        set_default_model(owner.id, "builtin")
    root = get_settings().workspaces_root
    folder = workspaces.create_workspace(workspaces.workspace_path(root, user.id, "abc"))
    (folder / "notes.txt").write_text("mine")
    with session_scope() as db:
        db.add(
            ApiKey(user_id=user.id, provider="openai", secret="v1.x.y", key_id="x", hint="…abcd")
        )

    with pytest.raises(accounts.AuthError) as wrong:
        selfservice.delete_account(user.id, password="not it at all")
    assert wrong.value.code == "current_password"
    selfservice.delete_account(user.id, password=PASSWORD)

    assert accounts.resolve_user(token) is None
    for model in (AuthSession, AgentSession, Message, Job, ApiKey, ModelPreference, PasswordReset):
        assert _count(model, user.id) == 0, model
        if model not in (ApiKey, PasswordReset):
            assert _count(model, neighbour.id) > 0, model
    with session_scope() as db:
        assert db.get(User, user.id) is None and db.get(User, neighbour.id) is not None
    assert not (root / user.id).exists()
    assert (root / neighbour.id).exists()


def test_the_last_admin_cannot_delete_their_account() -> None:
    admin, _ = signed_in_token("only-admin@example.com")
    assert admin.is_admin
    with pytest.raises(accounts.AuthError) as refused:
        selfservice.delete_account(admin.id, password=PASSWORD)
    assert refused.value.code == "last_admin"
    other, _ = signed_in_token("second@example.com")
    accounts.set_user_flags(other.id, is_admin=True)
    selfservice.delete_account(admin.id, password=PASSWORD)
    with session_scope() as db:
        assert db.get(User, admin.id) is None


def test_last_seen_moves_when_the_session_is_used_at_most_once_a_minute() -> None:
    from datetime import timedelta

    from sqlalchemy import update
    from sqlmodel import col

    from compymac_rx.db import utcnow

    user, token = signed_in_token("seen@example.com")
    old = utcnow() - timedelta(minutes=5)
    with session_scope() as db:
        db.execute(
            update(AuthSession).where(col(AuthSession.user_id) == user.id).values(last_seen_at=old)
        )
    assert accounts.resolve_user(token) is not None
    [row] = selfservice.list_signins(user.id, current_token=token)
    assert row.last_seen_at > old + timedelta(minutes=4)
    first_seen = row.last_seen_at
    assert accounts.resolve_user(token) is not None
    [row] = selfservice.list_signins(user.id, current_token=token)
    assert row.last_seen_at == first_seen  # within the minute: no write

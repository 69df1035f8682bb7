"""The admin page's search, paging and deletion over the local directory (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from compymac_rx import workspaces
from compymac_rx.accounts import selfservice
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import AuthSession, OneTimeToken, User
from compymac_rx.audit.models import AuditEvent
from compymac_rx.chats import service as chats
from compymac_rx.chats.models import AgentSession, Message
from compymac_rx.db import session_scope
from compymac_rx.identity.directory import LocalDirectory, NotAllowed
from compymac_rx.jobs.models import Job
from compymac_rx.settings import get_settings
from compymac_rx.state.admin import USERS_PAGE, run_admin_step
from compymac_rx.tokens import service as tokens
from compymac_rx.tokens.models import AccessToken
from tests.factories import make_user, signed_in_token, wait_for_job


def count(model: type, user_id: str) -> int:
    with session_scope() as db:
        return len(db.exec(select(model).where(model.user_id == user_id)).all())  # type: ignore[attr-defined]


def test_search_matches_email_or_name_in_any_case_and_escapes_wildcards() -> None:
    admin = make_user("root@example.com")
    make_user("alice.smith@example.com")
    bob = make_user("bob@corp.example")
    make_user("under_score@example.com")
    with session_scope() as db:
        row = db.get(User, bob.id)
        assert row is not None
        row.display_name = "Bob Smith"
    directory = LocalDirectory()
    assert {u.email for u in directory.list_users(admin, query="SMITH")} == {
        "alice.smith@example.com",
        "bob@corp.example",
    }
    assert [u.email for u in directory.list_users(admin, query="r_s")] == [
        "under_score@example.com"
    ]
    assert [u.email for u in directory.list_users(admin, query="%")] == []
    assert directory.list_users(admin, query="nobody here") == []


def test_pages_cover_every_user_once_in_sign_up_order() -> None:
    admin = make_user("first@example.com")
    for n in range(USERS_PAGE + 5):
        make_user(f"u{n:03}@example.com")
    first = run_admin_step(admin, None, "", 0)
    second = run_admin_step(admin, None, "", 1)
    assert len(first.users) == USERS_PAGE and first.has_next
    assert len(second.users) == 6 and not second.has_next
    emails = [u.email for u in first.users + second.users]
    assert len(set(emails)) == USERS_PAGE + 6 and emails[0] == "first@example.com"
    only = run_admin_step(admin, None, "u00", 0)
    assert [u.email for u in only.users][:2] == ["u000@example.com", "u001@example.com"]
    assert len(only.users) == 10 and not only.has_next


def test_an_admin_deletes_a_user_with_the_same_cascade_as_self_deletion(data_dir: Path) -> None:
    admin = make_user("admin@example.com")
    user, token = signed_in_token("leaving@example.com")
    neighbour, _ = signed_in_token("staying@example.com")
    for owner in (user, neighbour):
        chat = chats.create_session(owner.id)
        wait_for_job(owner.id, chats.send_message(owner.id, chat.id, "hello"))
        tokens.create_token(owner.id, "cli", days=7, scopes=["read"])
    root = get_settings().workspaces_root
    folder = workspaces.create_workspace(workspaces.workspace_path(root, user.id, "abc"))
    (folder / "notes.txt").write_text("mine")
    # Positive control: the rows the deletion must remove are there before it.
    assert accounts.resolve_user(token) is not None
    for model in (AuthSession, AgentSession, Message, Job, AccessToken):
        assert count(model, user.id) > 0, model

    LocalDirectory().delete_user(admin, user.id)

    assert accounts.resolve_user(token) is None
    for model in (AuthSession, AgentSession, Message, Job, AccessToken, OneTimeToken):
        assert count(model, user.id) == 0, model
    for model in (AuthSession, AgentSession, Message, Job, AccessToken):
        assert count(model, neighbour.id) > 0, model
    assert not (root / user.id).exists() and (root / neighbour.id).exists()
    with session_scope() as db:
        assert db.get(User, user.id) is None
        [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "user.delete")).all()
    assert (event.actor_id, event.subject_id, event.outcome) == (admin.id, user.id, "ok")
    with pytest.raises(NotAllowed):  # gone already
        LocalDirectory().delete_user(admin, user.id)


def test_no_deleting_oneself_here_only_admins_delete_and_never_the_last_admin() -> None:
    admin = make_user("only-admin@example.com")
    plain = make_user("plain@example.com")
    directory = LocalDirectory()
    with pytest.raises(NotAllowed):
        directory.delete_user(admin, admin.id)
    with pytest.raises(NotAllowed):
        directory.delete_user(plain, admin.id)
    # The rule beneath the directory: the only active admin's account is never removed.
    with pytest.raises(accounts.AuthError) as last:
        selfservice.remove_account(admin.id, actor_id=plain.id, action="user.delete")
    assert last.value.code == "last_admin"
    directory.set_admin(admin, plain.id, True)
    promoted = accounts.resolve_user(accounts.sign_in("plain@example.com", "correct horse battery"))
    assert promoted is not None and promoted.is_admin
    directory.delete_user(promoted, admin.id)  # two admins: allowed
    with session_scope() as db:
        assert db.get(User, admin.id) is None
    with pytest.raises(NotAllowed):
        directory.delete_user(promoted, promoted.id)

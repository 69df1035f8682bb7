"""What a signed-in person does to their own account (the Account page): list and end their
sign-ins, change the password, delete the account. Every function takes the user's id, which
the caller got from the session cookie, never from the browser.
"""

from __future__ import annotations

from compymac_rx import workspaces
from compymac_rx.accounts import repository, revocations
from compymac_rx.accounts.models import PasswordReset, SignInPublic, signin_public
from compymac_rx.accounts.service import (
    AuthError,
    check_current_password,
    check_password_policy,
    password_hasher,
)
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.audit import service as audit
from compymac_rx.chats import repository as chats
from compymac_rx.chats.tasks import get_runner
from compymac_rx.db import session_scope, utcnow
from compymac_rx.jobs import repository as jobs
from compymac_rx.settings import get_settings


def list_signins(user_id: str, *, current_token: str | None) -> list[SignInPublic]:
    """The user's live sign-ins, newest first; the one making this request is marked."""
    current = hash_token(current_token) if current_token else ""
    with session_scope() as db:
        rows = repository.list_live_auth_sessions(db, user_id=user_id, now=utcnow())
        return [signin_public(row, current=row.token_hash == current) for row in rows]


@revocations.changes_sessions
def end_signin(user_id: str, auth_session_id: str) -> bool:
    """End one of the user's own sign-ins; False when it is not theirs or already ended."""
    with session_scope() as db:
        ended = repository.revoke_user_auth_session(
            db, user_id=user_id, auth_session_id=auth_session_id, now=utcnow()
        )
        if ended:
            audit.own(
                "session.end",
                user_id,
                target=f"session:{auth_session_id}",
                detail={"reason": "ended by user"},
                db=db,
            )
        return ended


@revocations.changes_sessions
def end_other_signins(user_id: str, *, current_token: str) -> int:
    """End every sign-in of the user but the one making this request; returns how many."""
    with session_scope() as db:
        ended = repository.revoke_other_auth_sessions(
            db, user_id=user_id, keep_token_hash=hash_token(current_token), now=utcnow()
        )
        audit.own(
            "session.end",
            user_id,
            target="sessions:others",
            detail={"reason": "ended by user", "count": ended},
            db=db,
        )
        return ended


def _check_password(user_id: str, password: str, action: str) -> str:
    """The user's email when `password` is theirs; a failed attempt is audited and refused."""
    with session_scope() as db:
        user = repository.get_user(db, user_id=user_id)
    if user is None or not user.password_hash:
        raise AuthError("no_password")
    check_current_password(user, password, audit_as=action)
    return user.email


@revocations.changes_sessions
def change_password(
    user_id: str, *, current_token: str, current_password: str, new_password: str
) -> int:
    """Set a new password (the current one required); every other sign-in ends. Returns how
    many ended."""
    email = _check_password(user_id, current_password, "password.change")
    check_password_policy(new_password, email)
    new_hash = password_hasher().hash(new_password)
    with session_scope() as db:
        repository.set_password_hash(db, user_id=user_id, password_hash=new_hash)
        now = utcnow()
        ended = repository.revoke_other_auth_sessions(
            db, user_id=user_id, keep_token_hash=hash_token(current_token), now=now
        )
        repository.forget_unused(db, PasswordReset, now=now, user_id=user_id)
        audit.own("password.change", user_id, detail={"sessions_ended": ended}, db=db)
        return ended


@revocations.changes_sessions
def delete_account(user_id: str, *, password: str) -> None:
    """Delete the account and everything in it: sign-ins, sessions, messages, jobs, keys,
    reset links, then its workspace folders. Refused for the last active admin."""
    _check_password(user_id, password, "account.delete")
    remove_account(user_id, actor_id=user_id, action="account.delete")


@revocations.changes_sessions
def remove_account(user_id: str, *, actor_id: str, action: str) -> None:
    """The deletion itself, for the owner (`account.delete`) or an admin (`user.delete`):
    the row (the database cascades to everything that references it) and the workspace
    folders. Refused for the last active admin; AuthError("no_user") when it is gone."""
    with session_scope() as db:
        repository.lock_admins(db)
        user = repository.get_user(db, user_id=user_id)
        if user is None:
            raise AuthError("no_user" if actor_id != user_id else "no_password")
        if user.is_admin and not repository.other_active_admin_exists(db, user_id=user_id):
            audit.record(
                action,
                actor_id=actor_id,
                subject_id=user_id,
                target=f"user:{user_id}",
                outcome="refused",
                detail={"reason": "last admin"},
                db=db,
            )
            raise AuthError("last_admin")
        # Running turns stop at their next step; their rows go with the account.
        active: list[str] = []
        for chat in [
            *chats.list_sessions(db, user_id=user_id, archived=False),
            *chats.list_sessions(db, user_id=user_id, archived=True),
        ]:
            job = jobs.active_job(db, user_id=user_id, session_id=chat.id)
            if job is not None:
                jobs.request_cancel(db, user_id=user_id, job_id=job.id)
                active.append(job.id)
        audit.record(
            action,
            actor_id=actor_id,
            subject_id=user_id,
            target=f"user:{user_id}",
            detail={"email": user.email},
            db=db,
        )
        repository.delete_user(db, user_id=user_id)
    # After the commit: the Celery runner ends a waiting job on its own connection, which
    # would wait for this transaction's lock on the job's row.
    for job_id in active:
        get_runner().cancel(job_id)
    # root/<user id> holds every workspace of this user (workspaces.workspace_path).
    root = get_settings().workspaces_root
    workspaces.workspace_path(root, user_id, "x")  # checks the id's shape before any removal
    workspaces.delete_workspace(root / user_id)

"""The audit log: every security-relevant action leaves exactly one event, and no secret."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from compymac_rx import crypto
from compymac_rx.accounts import audit_log, invites, resets, selfservice
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.admins import NotAdmin
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.audit import service as audit
from compymac_rx.audit.models import ACTIONS, LINK_AND_2FA_ACTIONS, AuditEvent
from compymac_rx.chats import service as chats
from compymac_rx.db import session_scope, utcnow
from compymac_rx.exports import importer
from compymac_rx.exports import service as exports
from compymac_rx.exports.models import ExportTooLarge, ImportFailed
from compymac_rx.identity.directory import LocalDirectory
from compymac_rx.keys import service as keys
from compymac_rx.ops import rotate
from compymac_rx.tokens import service as tokens
from tests.conftest import clear_caches
from tests.factories import PASSWORD
from tests.fake_openai import FakeOpenAI
from tests.mail import keep_mail
from tests.search.test_service import conversation

API_KEY = "sk-AUDIT-planted-key-7c1d"
NEW_PASSWORD = "a brand new passphrase"
RESET_PASSWORD = "reset to this passphrase"


def all_events() -> list[AuditEvent]:
    with session_scope() as db:
        return list(db.exec(select(AuditEvent)))


def counts() -> Counter[tuple[str, str]]:
    return Counter((event.action, event.outcome) for event in all_events())


def test_every_action_leaves_exactly_one_event_and_no_secret(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVIDER_OPENAI_URL", fake_openai.url)
    monkeypatch.setenv("SECRET_KEYS", crypto.new_key_spec("old1"))
    clear_caches()
    mail = keep_mail(monkeypatch)
    secrets: list[str] = [PASSWORD, NEW_PASSWORD, RESET_PASSWORD, API_KEY]
    expected: Counter[tuple[str, str]] = Counter()

    def did(action: str, outcome: str = "ok") -> None:
        expected[(action, outcome)] += 1
        assert counts() == expected, f"after {action}/{outcome}"

    admin_token = accounts.sign_up("admin@example.com", PASSWORD, ip="10.0.0.1", user_agent="UA/1")
    admin = accounts.resolve_user(admin_token)
    assert admin is not None and admin.is_admin
    did("signup")
    user_token = accounts.sign_up("user@example.com", PASSWORD)
    user = accounts.resolve_user(user_token)
    assert user is not None
    did("signup")
    secrets += [admin_token, user_token]

    token = accounts.sign_in("user@example.com", PASSWORD, ip="10.0.0.2", user_agent="UA/2")
    secrets.append(token)
    did("signin")
    with pytest.raises(accounts.AuthError):
        accounts.sign_in("user@example.com", "wrong password here", ip="10.0.0.2")
    secrets.append("wrong password here")
    did("signin", "failed")
    accounts.sign_out(token)
    did("signout")

    directory = LocalDirectory()
    directory.set_enabled(admin, user.id, False)
    did("user.disable")
    directory.set_enabled(admin, user.id, True)
    did("user.enable")
    directory.set_admin(admin, user.id, True)
    did("user.grant_admin")
    directory.set_admin(admin, user.id, False)
    did("user.revoke_admin")

    keys.save_key(user.id, "openai", API_KEY)
    did("key.add")
    keys.save_key(user.id, "openai", API_KEY + "x")
    did("key.replace")
    monkeypatch.setenv(
        "SECRET_KEYS", f"{crypto.new_key_spec('new2')},{crypto.new_key_spec('old1')}"
    )
    clear_caches()
    rotate.main()
    did("keys.rotate")
    assert keys.delete_key(user.id, "openai")
    did("key.delete")

    chat = chats.create_session(user.id)
    chats.delete_session(user.id, chat.id)
    did("chat.delete")

    token_row, token_secret = tokens.create_token(user.id, "ci script", days=30, scopes=["read"])
    secrets.append(token_secret)
    did("token.create")
    assert tokens.revoke_token(user.id, token_row.id)
    did("token.revoke")
    assert not tokens.revoke_token(user.id, token_row.id)  # revoked already: no second event
    assert counts() == expected

    kept = chats.create_session(user.id)
    exported = exports.session_json(user.id, kept.id)
    did("export.session")
    exports.session_markdown(user.id, kept.id)
    did("export.session")
    zipped = b"".join(exports.account_zip(user.id, exports.plan_account_export(user.id)))
    did("export.account")  # one event for the account, none per session inside it
    importer.import_file(user.id, "session.json", exported)
    did("import")
    importer.import_file(user.id, "account.zip", zipped)
    did("import")
    with pytest.raises(ImportFailed):
        importer.import_file(user.id, "broken.json", b"{not json")
    did("import", "failed")

    link = invites.create_invite(admin.id)
    secrets.append(parse_qs(urlsplit(link).query)["invite"][0])
    did("invite.create")

    second = accounts.sign_in("user@example.com", PASSWORD)
    secrets.append(second)
    did("signin")
    [signin] = [
        s for s in selfservice.list_signins(user.id, current_token=user_token) if not s.current
    ]
    assert selfservice.end_signin(user.id, signin.id)
    did("session.end")
    assert selfservice.end_other_signins(user.id, current_token=user_token) == 0
    did("session.end")

    selfservice.change_password(
        user.id, current_token=user_token, current_password=PASSWORD, new_password=NEW_PASSWORD
    )
    did("password.change")
    resets.request_reset("user@example.com")
    resets.flush_outbox()
    did("password.reset_request")
    reset_token = mail.token()
    secrets.append(reset_token)
    resets.reset_password(reset_token, RESET_PASSWORD)
    did("password.reset")

    selfservice.delete_account(user.id, password=RESET_PASSWORD)
    did("account.delete")

    dump = "\n".join(repr(event.model_dump()) for event in all_events())
    for secret in secrets:
        assert secret not in dump
        assert hash_token(secret) not in dump
    # Every action the app knows was exercised here (the rest in test_links_2fa.py).
    assert {action for action, _ in expected} == set(ACTIONS) - set(LINK_AND_2FA_ACTIONS)


def test_exports_above_the_limit_are_audited_as_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    user = accounts.resolve_user(accounts.sign_up("big@example.com", PASSWORD))
    assert user is not None
    chat_id = conversation(user.id, "Big", "a message longer than ten bytes")
    monkeypatch.setattr(exports, "_limit", lambda: 10)
    with pytest.raises(ExportTooLarge):
        exports.session_json(user.id, chat_id)
    with pytest.raises(ExportTooLarge):
        exports.plan_account_export(user.id)
    assert counts() == Counter(
        {
            ("signup", "ok"): 1,
            ("export.session", "refused"): 1,
            ("export.account", "refused"): 1,
        }
    )
    [session_event] = [e for e in all_events() if e.action == "export.session"]
    assert session_event.target == f"chat:{chat_id}" and session_event.subject_id == user.id
    assert session_event.detail == {"format": "json", "reason": "too large"}


def test_the_user_sees_only_their_own_events_and_the_admin_filters_and_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin_token = accounts.sign_up("a@example.com", PASSWORD)
    admin = accounts.resolve_user(admin_token)
    other = accounts.resolve_user(accounts.sign_up("b@example.com", PASSWORD))
    assert admin is not None and other is not None
    for _ in range(3):
        with pytest.raises(accounts.AuthError):
            accounts.sign_in("b@example.com", "not it at all")
    mine = audit.events_for_user(other.id)
    assert [e.action for e in mine] == ["signin"] * 3 + ["signup"]
    assert all(e.subject_id == other.id for e in mine)
    assert {e.subject_id for e in audit.events_for_user(admin.id)} == {admin.id}

    with pytest.raises(NotAdmin):
        audit_log.events_for_admin(other.id, audit_log.AuditFilter())
    everything = audit_log.events_for_admin(admin.id, audit_log.AuditFilter())
    assert len(everything) == 5
    failed = audit_log.events_for_admin(
        admin.id, audit_log.AuditFilter(user_email="B@example.com", action="signin")
    )
    assert len(failed) == 3 and {e.outcome for e in failed} == {"failed"}
    assert {e.subject_email for e in failed} == {"b@example.com"}
    assert (
        audit_log.events_for_admin(admin.id, audit_log.AuditFilter(user_email="nobody@example.com"))
        == []
    )
    later = audit_log.events_for_admin(
        admin.id, audit_log.AuditFilter(since=utcnow() + timedelta(minutes=1))
    )
    assert later == []
    # Positive control: the same filter a minute back finds every event.
    since = audit_log.AuditFilter(since=utcnow() - timedelta(minutes=1))
    assert len(audit_log.events_for_admin(admin.id, since)) == 5
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    pages = [
        audit_log.events_for_admin(admin.id, audit_log.AuditFilter(), page=n) for n in range(4)
    ]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert len({e.id for p in pages for e in p}) == 5


def test_retention_prunes_old_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "30")
    clear_caches()
    audit.record("signin", outcome="failed")
    with session_scope() as db:
        db.add(AuditEvent(action="signin", at=utcnow() - timedelta(days=31)))
    assert audit.prune() == 1
    assert len(all_events()) == 1
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "0")
    clear_caches()
    with session_scope() as db:
        db.add(AuditEvent(action="signin", at=utcnow() - timedelta(days=3000)))
    assert audit.prune() == 0 and len(all_events()) == 2


def test_details_that_name_a_secret_are_dropped_and_unknown_actions_refused() -> None:
    audit.record("signin", detail={"password": "hunter2", "api_key": "sk-1", "email": "x@y.z"})
    [event] = all_events()
    assert event.detail == {"email": "x@y.z"}
    with pytest.raises(ValueError):
        audit.record("made.up")


def test_events_from_a_reflex_event_carry_its_client() -> None:
    audit.client_context("192.0.2.7", "Browser/9")
    audit.record("signin")
    [event] = all_events()
    assert (event.ip, event.user_agent) == ("192.0.2.7", "Browser/9")


def test_a_throttled_sign_in_is_recorded_as_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")
    clear_caches()
    accounts.sign_up("t@example.com", PASSWORD)
    for _ in range(2):
        with pytest.raises(accounts.AuthError):
            accounts.sign_in("t@example.com", "wrong password again", ip="10.1.1.1")
    assert counts()[("signin", "failed")] == 1
    assert counts()[("signin", "refused")] == 1

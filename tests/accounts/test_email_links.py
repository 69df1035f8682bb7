"""Mailed links: email verification and sign-in by link (both databases).

Single use, short-lived, only hashes stored, throttled, and the same answer for every email.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from compymac_rx.accounts import email_links
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import MAGIC_LINK, VERIFY_EMAIL, OneTimeToken, User
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.audit.models import AuditEvent
from compymac_rx.db import session_scope, utcnow
from tests.conftest import clear_caches
from tests.factories import PASSWORD, signed_in_token
from tests.mail import KeptMail, keep_mail


@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> KeptMail:
    return keep_mail(monkeypatch)


def use_settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_caches()


def expire(token: str) -> None:
    with session_scope() as db:
        db.execute(
            update(OneTimeToken)
            .where(col(OneTimeToken.token_hash) == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def verified_at(email: str) -> object:
    with session_scope() as db:
        user = db.exec(select(User).where(User.email == email)).one()
        return user.email_verified_at


def actions(name: str) -> list[AuditEvent]:
    with session_scope() as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == name)).all())


# --- EMAIL_VERIFICATION ---


def test_off_sends_nothing_and_signs_in(mail: KeptMail, monkeypatch: pytest.MonkeyPatch) -> None:
    user, token = signed_in_token("plain@example.com")
    assert accounts.resolve_user(token) is not None
    assert mail.links() == []
    assert not email_links.needs_verification(user.id)
    # Positive control: the same sign-up with verification on mails a link.
    use_settings(monkeypatch, EMAIL_VERIFICATION="optional")
    signed_in_token("checked@example.com")
    assert len(mail.links()) == 1


def test_required_blocks_sign_in_until_the_single_use_link_is_opened(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, EMAIL_VERIFICATION="required")
    with pytest.raises(accounts.VerifyEmailFirst):
        accounts.sign_up("new@example.com", PASSWORD)
    link = mail.token()
    assert mail.sent[0].to == "new@example.com" and "/auth/verify?token=" in mail.links()[0]
    with session_scope() as db:
        [row] = db.exec(select(OneTimeToken)).all()
    assert row.purpose == VERIFY_EMAIL and row.token_hash == hash_token(link)
    assert link not in repr(row)
    # The right password is told "confirm first"; a wrong one is still just wrong.
    with pytest.raises(accounts.AuthError) as blocked:
        accounts.sign_in("new@example.com", PASSWORD)
    assert blocked.value.code == "unverified"
    with pytest.raises(accounts.AuthError) as wrong:
        accounts.sign_in("new@example.com", "not the password")
    assert wrong.value.code == "invalid"

    user_id = email_links.verify_email(link)
    assert verified_at("new@example.com") is not None
    assert accounts.resolve_user(accounts.sign_in("new@example.com", PASSWORD)) is not None
    with pytest.raises(accounts.AuthError) as reused:
        email_links.verify_email(link)
    assert reused.value.code == "verify_link"
    [event] = actions("email.verify")
    assert event.subject_id == user_id and link not in str(event.detail)


def test_an_expired_verification_link_is_refused_and_a_resend_works(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, EMAIL_VERIFICATION="required")
    with pytest.raises(accounts.VerifyEmailFirst):
        accounts.sign_up("late@example.com", PASSWORD)
    old = mail.token()
    expire(old)
    with pytest.raises(accounts.AuthError) as expired:
        email_links.verify_email(old)
    assert expired.value.code == "verify_link"
    email_links.request_verification("Late@Example.com")
    fresh = mail.token()
    assert fresh != old
    email_links.verify_email(fresh)
    assert accounts.sign_in("late@example.com", PASSWORD)


def test_resend_answers_the_same_for_every_email_and_mails_only_the_unverified(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, EMAIL_VERIFICATION="optional")
    signed_in_token("waiting@example.com")  # optional: signed in, and a link mailed
    assert len(mail.links()) == 1
    email_links.verify_email(mail.token())
    assert email_links.request_verification("waiting@example.com") is None  # verified now
    assert email_links.request_verification("nobody@example.com") is None
    assert email_links.request_verification("not an email") is None
    assert len(mail.links()) == 1
    outcomes = sorted(e.outcome for e in actions("email.verify_request"))
    assert outcomes == ["failed", "failed", "ok"]


def test_optional_signs_in_and_the_banner_asks_until_verified(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, EMAIL_VERIFICATION="optional")
    user, token = signed_in_token("banner@example.com")
    assert accounts.resolve_user(token) is not None
    assert email_links.needs_verification(user.id)
    email_links.send_verification(user.id)  # the banner's resend button
    links = mail.links()
    assert len(links) == 2
    email_links.verify_email(mail.token())
    assert not email_links.needs_verification(user.id)
    # Verifying used up the other link too.
    first = links[0].split("token=", 1)[1]
    with pytest.raises(accounts.AuthError):
        email_links.verify_email(first)


def test_resends_are_throttled_per_email(mail: KeptMail, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, EMAIL_VERIFICATION="required", MAIL_LINKS_PER_HOUR="2")
    with pytest.raises(accounts.VerifyEmailFirst):
        accounts.sign_up("busy@example.com", PASSWORD)  # the first of two
    for _ in range(3):
        email_links.request_verification("busy@example.com", ip="203.0.113.7")
    assert len(mail.links()) == 2
    assert [e.outcome for e in actions("email.verify_request")].count("refused") == 2


# --- MAGIC_LINK ---


def test_a_sign_in_link_works_once_and_confirms_the_address(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, MAGIC_LINK="true", EMAIL_VERIFICATION="optional")
    user, _ = signed_in_token("link@example.com")
    email_links.request_magic_link("LINK@example.com ", ip="198.51.100.4")
    link = mail.token()
    assert "/magic?token=" in mail.links()[-1]
    with session_scope() as db:
        row = db.exec(select(OneTimeToken).where(OneTimeToken.purpose == MAGIC_LINK)).one()
    assert row.token_hash == hash_token(link)
    assert email_links.magic_link_usable(link)
    session = email_links.sign_in_by_link(link, ip="198.51.100.4")
    signed = accounts.resolve_user(session)
    assert signed is not None and signed.id == user.id
    assert not email_links.needs_verification(user.id)
    with pytest.raises(accounts.AuthError) as reused:
        email_links.sign_in_by_link(link)
    assert reused.value.code == "magic_link"
    assert not email_links.magic_link_usable(link)
    ok = [e for e in actions("signin") if e.outcome == "ok" and e.detail.get("method")]
    assert [e.detail["method"] for e in ok] == ["magic_link"]


def test_magic_link_requests_answer_the_same_whether_or_not_the_email_exists(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, MAGIC_LINK="true")
    signed_in_token("known@example.com")
    user, _ = signed_in_token("off@example.com")
    accounts.set_user_flags(user.id, is_active=False)
    for email in ("known@example.com", "unknown@example.com", "off@example.com", "nope"):
        assert email_links.request_magic_link(email) is None
    assert len(mail.links()) == 1 and mail.sent[0].to == "known@example.com"
    outcomes = sorted(e.outcome for e in actions("magic_link.request"))
    assert outcomes == ["failed", "failed", "ok"]


def test_expired_links_wrong_purpose_and_the_setting_off_are_refused(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, MAGIC_LINK="true", EMAIL_VERIFICATION="optional")
    signed_in_token("mixed@example.com")
    verify_token = mail.token()
    with pytest.raises(accounts.AuthError):  # a verification link is no sign-in link
        email_links.sign_in_by_link(verify_token)
    email_links.request_magic_link("mixed@example.com")
    expired = mail.token()
    expire(expired)
    with pytest.raises(accounts.AuthError):
        email_links.sign_in_by_link(expired)
    email_links.request_magic_link("mixed@example.com")
    fresh = mail.token()
    use_settings(monkeypatch, MAGIC_LINK="false")
    email_links.request_magic_link("mixed@example.com")
    assert len(mail.links()) == 3  # nothing more sent with the setting off
    with pytest.raises(accounts.AuthError):
        email_links.sign_in_by_link(fresh)


def test_a_link_of_an_account_disabled_since_signs_nobody_in(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, MAGIC_LINK="true")
    signed_in_token("admin@example.com")
    user, _ = signed_in_token("gone@example.com")
    email_links.request_magic_link("gone@example.com")
    link = mail.token()
    accounts.set_user_flags(user.id, is_active=False)
    with pytest.raises(accounts.AuthError) as refused:
        email_links.sign_in_by_link(link)
    assert refused.value.code == "magic_link"


def test_magic_links_are_throttled_per_email(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, MAGIC_LINK="true", MAIL_LINKS_PER_HOUR="2")
    signed_in_token("many@example.com")
    for _ in range(5):
        email_links.request_magic_link("many@example.com")
    assert len(mail.links()) == 2


def test_two_racing_uses_of_one_sign_in_link_let_exactly_one_win(
    mail: KeptMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, MAGIC_LINK="true")
    signed_in_token("race@example.com")
    email_links.request_magic_link("race@example.com")
    link = mail.token()

    def use(_: int) -> str:
        try:
            email_links.sign_in_by_link(link)
        except accounts.AuthError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(use, range(2))) == ["magic_link", "ok"]

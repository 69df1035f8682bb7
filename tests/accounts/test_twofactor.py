"""TOTP two-factor: enrollment, sign-in with a code or a recovery code, turning it off
(both databases). Codes come from pyotp with the secret the enrollment showed."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from compymac_rx.accounts import email_links, twofactor
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import SECOND_FACTOR, OneTimeToken, RecoveryCode, User
from compymac_rx.audit.models import AuditEvent
from compymac_rx.db import session_scope, utcnow
from tests.conftest import clear_caches
from tests.factories import PASSWORD, signed_in_token
from tests.mail import KeptMail, keep_mail

EMAIL = "two@example.com"


def enrolled(email: str = EMAIL) -> tuple[str, pyotp.TOTP, list[str]]:
    user, _ = signed_in_token(email)
    enrollment = twofactor.start_enrollment(user.id)
    totp = pyotp.TOTP(enrollment.secret)
    codes = twofactor.confirm_enrollment(user.id, totp.now())
    return user.id, totp, codes


def pending_sign_in(email: str = EMAIL) -> str:
    with pytest.raises(accounts.SecondFactorNeeded) as needed:
        accounts.sign_in(email, PASSWORD)
    return needed.value.pending


def later_code(totp: pyotp.TOTP) -> str:
    """The next step's code (inside the window), so it was not used by the enrollment."""
    return totp.at(time.time() + totp.interval)


def test_enrollment_shows_a_png_qr_and_keeps_the_secret_encrypted() -> None:
    user, _ = signed_in_token(EMAIL)
    enrollment = twofactor.start_enrollment(user.id)
    prefix = "data:image/png;base64,"
    assert enrollment.qr_data_url.startswith(prefix)
    assert base64.b64decode(enrollment.qr_data_url[len(prefix) :]).startswith(b"\x89PNG")
    with session_scope() as db:
        row = db.exec(select(User).where(User.id == user.id)).one()
    assert row.totp_secret_enc and enrollment.secret not in row.totp_secret_enc
    assert row.totp_enabled_at is None  # not on until a code confirms it
    assert not twofactor.status(user.id).enabled
    assert accounts.sign_in(EMAIL, PASSWORD)  # still one factor


def test_confirming_needs_a_right_code_and_returns_recovery_codes_stored_hashed() -> None:
    user, _ = signed_in_token(EMAIL)
    totp = pyotp.TOTP(twofactor.start_enrollment(user.id).secret)
    with pytest.raises(accounts.AuthError) as wrong:
        twofactor.confirm_enrollment(user.id, "000000" if totp.now() != "000000" else "111111")
    assert wrong.value.code == "code"
    codes = twofactor.confirm_enrollment(user.id, totp.now())
    assert len(codes) == twofactor.RECOVERY_CODES == len(set(codes))
    assert twofactor.status(user.id) == twofactor.TwoFactorStatus(True, 10)
    with session_scope() as db:
        stored = " ".join(r.code_hash for r in db.exec(select(RecoveryCode)).all())
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)
    with pytest.raises(accounts.AuthError) as again:
        twofactor.start_enrollment(user.id)
    assert again.value.code == "already_enrolled"


def test_sign_in_asks_for_a_code_once_enrolled_and_each_code_works_once() -> None:
    user_id, totp, _ = enrolled()
    pending = pending_sign_in()
    with pytest.raises(accounts.AuthError) as wrong:
        twofactor.complete_sign_in(pending, "12345x")
    assert wrong.value.code == "code"
    # The code the enrollment used is spent.
    with pytest.raises(accounts.AuthError):
        twofactor.complete_sign_in(pending, totp.now())
    code = later_code(totp)
    session = twofactor.complete_sign_in(pending, code)
    signed = accounts.resolve_user(session)
    assert signed is not None and signed.id == user_id
    # The half-finished sign-in is used up, and the code cannot sign in a second time.
    with pytest.raises(accounts.AuthError) as used:
        twofactor.complete_sign_in(pending, code)
    assert used.value.code == "second_factor"
    with pytest.raises(accounts.AuthError) as replay:
        twofactor.complete_sign_in(pending_sign_in(), code)
    assert replay.value.code == "code"


def test_a_recovery_code_signs_in_once() -> None:
    user_id, _, codes = enrolled()
    session = twofactor.complete_sign_in(pending_sign_in(), codes[0].upper())
    assert accounts.resolve_user(session) is not None
    with pytest.raises(accounts.AuthError):
        twofactor.complete_sign_in(pending_sign_in(), codes[0])
    assert twofactor.status(user_id).recovery_codes_left == 9
    with session_scope() as db:
        [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "2fa.recovery_used"))
    assert codes[0] not in str(event.detail)


def test_an_expired_half_finished_sign_in_is_refused() -> None:
    _, totp, _ = enrolled()
    pending = pending_sign_in()
    with session_scope() as db:
        db.execute(
            update(OneTimeToken)
            .where(col(OneTimeToken.purpose) == SECOND_FACTOR)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(accounts.AuthError) as expired:
        twofactor.complete_sign_in(pending, later_code(totp))
    assert expired.value.code == "second_factor"
    with pytest.raises(accounts.AuthError):
        twofactor.complete_sign_in("", later_code(totp))


def test_wrong_codes_are_throttled_per_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    clear_caches()
    _, totp, _ = enrolled()
    pending = pending_sign_in()
    for _ in range(3):
        with pytest.raises(accounts.AuthError) as wrong:
            twofactor.complete_sign_in(pending, "99999x")
        assert wrong.value.code == "code"
    with pytest.raises(accounts.AuthError) as throttled:
        twofactor.complete_sign_in(pending, later_code(totp))
    assert throttled.value.code == "throttled" and throttled.value.retry_after > 0


def test_a_mailed_sign_in_link_also_asks_for_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    mail: KeptMail = keep_mail(monkeypatch)
    monkeypatch.setenv("MAGIC_LINK", "true")
    clear_caches()
    _, totp, _ = enrolled()
    email_links.request_magic_link(EMAIL)
    with pytest.raises(accounts.SecondFactorNeeded) as needed:
        email_links.sign_in_by_link(mail.token())
    assert accounts.resolve_user(twofactor.complete_sign_in(needed.value.pending, later_code(totp)))


def test_turning_it_off_needs_the_password_and_a_code() -> None:
    user_id, totp, codes = enrolled()
    with pytest.raises(accounts.AuthError) as bad_password:
        twofactor.disable(user_id, password="not it", code=later_code(totp))
    assert bad_password.value.code == "current_password"
    with pytest.raises(accounts.AuthError) as bad_code:
        twofactor.disable(user_id, password=PASSWORD, code="abc")
    assert bad_code.value.code == "code"
    twofactor.disable(user_id, password=PASSWORD, code=codes[3])
    assert twofactor.status(user_id) == twofactor.TwoFactorStatus(False, 0)
    assert accounts.resolve_user(accounts.sign_in(EMAIL, PASSWORD)) is not None
    with session_scope() as db:
        events = db.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("2fa."))).all()
        row = db.exec(select(User).where(User.id == user_id)).one()
    assert sorted(e.action for e in events) == ["2fa.disable", "2fa.enable", "2fa.recovery_used"]
    assert row.totp_secret_enc is None

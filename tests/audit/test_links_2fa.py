"""Mailed links, two-factor and admin deletion each leave exactly one event, and no secret
(the link tokens, TOTP secret, codes and recovery codes are planted and searched for)."""

from __future__ import annotations

import time
from collections import Counter

import pyotp
import pytest
from sqlmodel import select

from compymac_rx.accounts import email_links, twofactor
from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.tokens import hash_token
from compymac_rx.audit.models import LINK_AND_2FA_ACTIONS, AuditEvent
from compymac_rx.db import session_scope
from compymac_rx.identity.directory import LocalDirectory
from tests.conftest import clear_caches
from tests.factories import PASSWORD
from tests.mail import keep_mail


def counts() -> Counter[tuple[str, str]]:
    with session_scope() as db:
        return Counter((e.action, e.outcome) for e in db.exec(select(AuditEvent)))


def test_each_link_and_two_factor_action_leaves_one_event_and_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMAIL_VERIFICATION", "optional")
    monkeypatch.setenv("MAGIC_LINK", "true")
    clear_caches()
    mail = keep_mail(monkeypatch)
    secrets: list[str] = [PASSWORD]
    expected = counts()
    done: set[str] = set()

    def did(action: str, outcome: str = "ok", also: tuple[str, ...] = ()) -> None:
        expected[(action, outcome)] += 1
        for other in also:  # events this step writes besides the one it is about
            expected[(other, "ok")] += 1
        done.add(action)
        assert counts() == expected, f"after {action}/{outcome}"

    admin = accounts.resolve_user(accounts.sign_up("admin@example.com", PASSWORD))
    user_token = accounts.sign_up("user@example.com", PASSWORD)
    user = accounts.resolve_user(user_token)
    assert admin is not None and user is not None
    mail.links()
    expected = counts()  # sign-ups and their verification requests, counted by test_service

    email_links.request_verification("user@example.com")
    mail.links()
    did("email.verify_request")
    verify = mail.token()
    secrets.append(verify)
    email_links.verify_email(verify)
    did("email.verify")

    email_links.request_magic_link("user@example.com")
    mail.links()
    did("magic_link.request")
    magic = mail.token()
    secrets.append(magic)
    secrets.append(email_links.sign_in_by_link(magic))
    did("signin")

    enrollment = twofactor.start_enrollment(user.id)
    totp = pyotp.TOTP(enrollment.secret)
    code = totp.now()
    recovery = twofactor.confirm_enrollment(user.id, code)
    # Not the six-digit codes: digits like those turn up in any timestamp.
    secrets += [enrollment.secret, *recovery]
    did("2fa.enable")
    with pytest.raises(accounts.SecondFactorNeeded) as pending:
        accounts.sign_in("user@example.com", PASSWORD)
    secrets.append(pending.value.pending)
    secrets.append(twofactor.complete_sign_in(pending.value.pending, recovery[0]))
    did("2fa.recovery_used", also=("signin",))
    later = totp.at(time.time() + totp.interval)
    twofactor.disable(user.id, password=PASSWORD, code=later)
    did("2fa.disable")

    LocalDirectory().delete_user(admin, user.id)
    did("user.delete")

    assert done >= set(LINK_AND_2FA_ACTIONS)
    with session_scope() as db:
        dump = "\n".join(repr(e.model_dump()) for e in db.exec(select(AuditEvent)))
    for secret in secrets:
        assert secret not in dump
        assert hash_token(secret) not in dump

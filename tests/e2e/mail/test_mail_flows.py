"""Mailed links and two-factor in the browser, every mail read from the real SMTP server:
email verification (required), sign-in by mailed link, TOTP enrollment and sign-in."""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import Browser, expect

from tests.e2e.helpers import (
    PASSWORD,
    TIMEOUT,
    expect_signed_in,
    react_owns,
    sign_in,
    submit_sign_up,
    unique_email,
)
from tests.e2e.mail.conftest import MailApp
from tests.e2e.mail.steps import create_verified, notice


def test_required_verification_blocks_sign_in_until_the_mailed_link_is_opened(
    browser: Browser, mail_app: MailApp
) -> None:
    email = unique_email("verify")
    context = browser.new_context()
    page = context.new_page()
    submit_sign_up(page, mail_app.url, email)
    notice(page, "a link to confirm it is on its way")
    first = mail_app.smtp.link(email, "/auth/verify?token=")

    sign_in(page, email)
    expect(page.get_by_role("alert")).to_contain_text(
        "Confirm your email address first", timeout=TIMEOUT
    )
    before = mail_app.smtp.count()
    react_owns(page, "resend_email")
    page.get_by_label("Your email").fill(email)
    page.get_by_role("button", name="Send the confirmation link again").click()
    notice(page, "a link to confirm it is on its way")
    second = mail_app.smtp.link(email, "/auth/verify?token=", after=before)
    assert second != first

    page.goto(second)
    notice(page, "Your email address is confirmed.")
    sign_in(page, email)
    expect_signed_in(page, email)
    # Confirming used up the earlier link as well.
    other = browser.new_context()
    other_page = other.new_page()
    other_page.goto(first)
    expect(other_page.get_by_role("alert")).to_contain_text(
        "This confirmation link was used", timeout=TIMEOUT
    )
    other.close()
    context.close()


def test_sign_in_by_mailed_link_works_once(browser: Browser, mail_app: MailApp) -> None:
    email = unique_email("magic")
    context = browser.new_context()
    page = context.new_page()
    create_verified(page, mail_app, email)
    page.get_by_role("link", name="Email me a sign-in link").click()
    page.wait_for_url(re.compile(r"/magic-link"), timeout=TIMEOUT)
    # A client-side navigation: the URL changes before the new page replaces the sign-in
    # page, whose own "Email" field would take the fill and vanish with it (the empty form
    # then never submits). Fill only once the magic-link page is there.
    expect(page.get_by_role("button", name="Email me a sign-in link")).to_be_visible(
        timeout=TIMEOUT
    )
    before = mail_app.smtp.count()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    notice(page, "a sign-in link is on its way")
    link = mail_app.smtp.link(email, "/magic?token=", after=before)
    # An unknown address gets the same answer, and no mail.
    page.goto(f"{mail_app.url}/magic-link")
    page.get_by_label("Email").fill(unique_email("nobody"))
    page.get_by_role("button", name="Email me a sign-in link").click()
    notice(page, "a sign-in link is on its way")

    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect_signed_in(page, email)
    context.close()

    again = browser.new_context()
    again_page = again.new_page()
    again_page.goto(link)
    again_page.get_by_role("button", name="Sign in").click()
    expect(again_page.get_by_role("alert")).to_contain_text(
        "This sign-in link was used", timeout=TIMEOUT
    )
    again.close()
    assert not [m for m in mail_app.smtp.messages if "nobody" in str(m["To"])]


def test_two_factor_enroll_sign_in_with_a_code_and_turn_off(
    browser: Browser, mail_app: MailApp
) -> None:
    email = unique_email("totp")
    context = browser.new_context()
    page = context.new_page()
    create_verified(page, mail_app, email)
    sign_in(page, email)
    expect_signed_in(page, email)
    page.goto(f"{mail_app.url}/account")
    page.get_by_role("button", name="Set up two-factor").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/png;base64,"), timeout=TIMEOUT)
    secret = page.get_by_test_id("totp-secret").inner_text()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your app").fill(totp.now())
    page.get_by_role("button", name="Confirm two-factor").click()
    expect(page.get_by_test_id("security-result")).to_contain_text(
        "Two-factor sign-in is on.", timeout=TIMEOUT
    )
    codes = page.get_by_test_id("recovery-code")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    page.get_by_role("button", name="I saved them").click()
    expect(codes).to_have_count(0)
    context.close()

    # A new browser: the password alone is not enough any more.
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{mail_app.url}/signin")
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/two-factor"), timeout=TIMEOUT)
    page.get_by_label("Code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right", timeout=TIMEOUT)
    # The next step's code: the enrollment spent this step's.
    page.get_by_label("Code").fill(totp.at(time.time() + totp.interval))
    page.get_by_role("button", name="Verify").click()
    expect_signed_in(page, email)

    page.goto(f"{mail_app.url}/account")
    page.get_by_label("Password to turn it off").fill(PASSWORD)
    page.get_by_label("Code from your app or a recovery code").fill(recovery)
    page.get_by_role("button", name="Turn off two-factor").click()
    expect(page.get_by_test_id("security-result")).to_contain_text(
        "Two-factor sign-in is off.", timeout=TIMEOUT
    )
    page.reload()
    events = page.get_by_test_id("my-event-row")
    for action in ("2fa.enable", "2fa.recovery_used", "2fa.disable", "email.verify"):
        exact = events.filter(has=page.get_by_role("cell", name=action, exact=True))
        expect(exact).to_have_count(1, timeout=TIMEOUT)
    context.close()

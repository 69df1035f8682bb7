"""The Account page in the browser: change password, end a session, delete the account, and a
password reset through the link the console mailer writes to the app's log."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import PASSWORD, TIMEOUT, expect_signed_in, sign_in, sign_up, unique_email

NEW_PASSWORD = "another good passphrase"


def signed_in_context(browser: Browser, app: RunningApp, email: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{app.url}/signin")
    sign_in(page, email)
    expect_signed_in(page, email)
    return context, page


def open_account(page: Page, app: RunningApp) -> None:
    page.goto(f"{app.url}/account")
    expect(page.get_by_role("heading", name="Where you are signed in")).to_be_visible(
        timeout=TIMEOUT
    )


def expect_signed_out(page: Page, app: RunningApp) -> None:
    page.goto(f"{app.url}/account")
    page.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=TIMEOUT)


def test_change_password_ends_the_other_sessions(browser: Browser, app_server: RunningApp) -> None:
    email = unique_email("change")
    first = browser.new_context()
    page = first.new_page()
    sign_up(page, app_server, email)
    other, other_page = signed_in_context(browser, app_server, email)

    open_account(page, app_server)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_test_id("account-result")).to_contain_text(
        "Password changed. 1 other session(s) signed out.", timeout=TIMEOUT
    )
    expect(page.get_by_label("New password")).to_have_value("")
    changed = page.get_by_test_id("my-event-row").filter(has_text="password.change")
    expect(changed).to_have_count(1)
    # Recorded from a Reflex event: the guard's client address and user agent.
    expect(changed).to_contain_text(re.compile(r"127\.0\.0\.1|::1"))
    expect(changed).to_contain_text("Chrome")
    expect_signed_out(other_page, app_server)
    # This browser stays signed in; the new password works, the old one does not.
    open_account(page, app_server)
    other_page.get_by_label("Email").fill(email)
    other_page.get_by_label("Password").fill(PASSWORD)
    other_page.get_by_role("button", name="Sign in").click()
    expect(other_page.get_by_role("alert")).to_contain_text(
        "Wrong email or password", timeout=TIMEOUT
    )
    other_page.get_by_label("Email").fill(email)
    other_page.get_by_label("Password").fill(NEW_PASSWORD)
    other_page.get_by_role("button", name="Sign in").click()
    expect_signed_in(other_page, email)
    first.close()
    other.close()


def test_end_one_session_from_the_list(browser: Browser, app_server: RunningApp) -> None:
    email = unique_email("end")
    first = browser.new_context()
    page = first.new_page()
    sign_up(page, app_server, email)
    other, other_page = signed_in_context(browser, app_server, email)

    open_account(page, app_server)
    rows = page.get_by_test_id("signin-row")
    expect(rows).to_have_count(2, timeout=TIMEOUT)
    expect(rows.filter(has_text="this browser")).to_have_count(1)
    rows.get_by_role("button", name=re.compile("^End the session")).click()
    expect(page.get_by_test_id("account-result")).to_contain_text(
        "Signed out there.", timeout=TIMEOUT
    )
    expect(rows).to_have_count(1, timeout=TIMEOUT)
    expect_signed_out(other_page, app_server)
    open_account(page, app_server)  # still signed in here
    first.close()
    other.close()


def test_delete_account_needs_the_password_and_removes_it(
    browser: Browser, app_server: RunningApp
) -> None:
    email = unique_email("delete")
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, email)
    open_account(page, app_server)
    page.get_by_label("Password to confirm").fill("not the password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_test_id("account-result")).to_contain_text(
        "That is not your current password", timeout=TIMEOUT
    )
    page.get_by_label("Password to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    expect(page.get_by_role("status")).to_contain_text(
        "Your account and everything in it were deleted"
    )
    sign_in(page, email)
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password", timeout=TIMEOUT)
    context.close()


def reset_link_from_log(app: RunningApp, email: str) -> str:
    """The console mailer writes each message to the app's output: find this user's link."""
    log = app.data_dir / "app.log"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        start = text.rfind(f"[mail] To: {email}")
        if start >= 0:
            found = re.search(r"https?://\S+/reset\?token=\S+", text[start:])
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no reset mail for {email} in the app log")


def test_forgotten_password_by_the_mailed_link(browser: Browser, app_server: RunningApp) -> None:
    email = unique_email("reset")
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, email)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Forgot your password?")).to_have_attribute(
        "href", "/forgot", timeout=TIMEOUT
    )
    page.goto(f"{app_server.url}/forgot")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status")).to_contain_text(
        "a reset link is on its way", timeout=TIMEOUT
    )
    link = reset_link_from_log(app_server, email)

    page.goto(link)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    page.wait_for_url(re.compile(r"/signin/?\?notice=reset"), timeout=TIMEOUT)
    sign_in_with = page.get_by_label("Email")
    sign_in_with.fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_signed_in(page, email)
    # The link worked once (asked from a browser not signed in).
    context.close()
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.get_by_label("New password").fill("yet another passphrase")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_contain_text("This reset link was used", timeout=TIMEOUT)
    context.close()

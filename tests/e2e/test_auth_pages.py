"""Sign-in and sign-up errors, and bad chat input, as a person sees them."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import PASSWORD, TIMEOUT, new_session, send, sign_up, unique_email


def test_sign_in_and_sign_up_errors_are_shown(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    email = unique_email("errors")
    sign_up(page, app_server, email)
    page.get_by_role("button", name="Sign out").click()

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password", timeout=TIMEOUT)

    page.goto(f"{app_server.url}/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "If you already have one, sign in", timeout=TIMEOUT
    )

    page.get_by_label("Email").fill(unique_email("weak"))
    page.get_by_label("Password").fill("short-pw")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 10", timeout=TIMEOUT)
    context.close()


def test_bad_messages_get_a_clear_message(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("input"))
    new_session(page)
    send(page, "   ")
    expect(page.get_by_role("alert")).to_contain_text("Type a message first", timeout=TIMEOUT)
    send(page, "x" * 20_001)
    expect(page.get_by_role("alert")).to_contain_text("at most 20,000", timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_have_text("")
    context.close()

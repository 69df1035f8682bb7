"""Sign-in and sign-up errors, and bad chat input, as a person sees them."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import (
    PASSWORD,
    TIMEOUT,
    new_session,
    react_owns,
    send,
    sign_up,
    unique_email,
)


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


def test_a_failed_sign_in_or_sign_up_keeps_the_email(
    browser: Browser, app_server: RunningApp
) -> None:
    context = browser.new_context()
    page = context.new_page()
    email = unique_email("kept")
    page.goto(f"{app_server.url}/signin")
    react_owns(page, "email")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password", timeout=TIMEOUT)
    expect(page.get_by_label("Email")).to_have_value(email)
    expect(page.get_by_label("Password")).to_have_value("")
    assert email not in page.url  # carried in a short HttpOnly cookie, not the address

    page.goto(f"{app_server.url}/signup")
    react_owns(page, "email")
    other = unique_email("kept")
    page.get_by_label("Email").fill(other)
    page.get_by_label("Password").fill("short-pw")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 10", timeout=TIMEOUT)
    expect(page.get_by_label("Email")).to_have_value(other)

    # Without an error the form starts empty.
    page.goto(f"{app_server.url}/signin")
    react_owns(page, "email")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("")
    context.close()


def test_create_one_keeps_next(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{app_server.url}/settings")
    page.wait_for_url(re.compile(r"/signin\?next=%2Fsettings"), timeout=TIMEOUT)
    create = page.get_by_role("link", name="Create one")
    # (The router may report the page as /settings/.)
    expect(create).to_have_attribute(
        "href", re.compile(r"^/signup\?next=%2Fsettings(%2F)?$"), timeout=TIMEOUT
    )
    create.click()
    page.wait_for_url(re.compile(r"/signup\?next=%2Fsettings"), timeout=TIMEOUT)
    expect(page.get_by_role("link", name="Sign in")).to_have_attribute(
        "href", re.compile(r"^/signin\?next=%2Fsettings(%2F)?$")
    )
    # Signing up there lands on the page the visitor was going to.
    react_owns(page, "email")
    page.get_by_label("Email").fill(unique_email("next"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/settings/?$"), timeout=TIMEOUT)
    context.close()

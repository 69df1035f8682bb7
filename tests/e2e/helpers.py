"""Steps the browser tests share."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import RunningApp

DOCS = Path(__file__).resolve().parents[2] / "docs"
PASSWORD = "correct horse battery"
TIMEOUT = 20_000


def submit_sign_up(page: Page, url: str, email: str) -> None:
    """Fill and send the sign-up form of the app at `url`, once React owns it."""
    page.goto(f"{url}/signup")
    react_owns(page, "email")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


def sign_up(page: Page, app: RunningApp, email: str) -> None:
    submit_sign_up(page, app.url, email)
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached(
        timeout=TIMEOUT
    )
    expect(page.get_by_text(email)).to_be_attached()


def expect_signed_in(page: Page, email: str) -> None:
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached(
        timeout=TIMEOUT
    )
    expect(page.get_by_text(email)).to_be_attached()


def sign_in_through_keycloak(
    page: Page, app_url: str, keycloak_url: str, email: str, password: str
) -> None:
    """From the app's sign-in page, through Keycloak's own login form, back in the app."""
    page.goto(app_url)
    page.get_by_role("button", name="Continue with Keycloak").click()
    page.wait_for_url(re.compile(re.escape(keycloak_url)), timeout=TIMEOUT)
    page.locator("#username").fill(email)
    page.locator("#password").fill(password)
    page.locator("#kc-login").click()
    expect_signed_in(page, email)


def react_owns(page: Page, element_id: str) -> None:
    """Wait until React has taken over the prerendered element `element_id` (hydrated or
    rendered it anew: it then carries React's fiber key). A field filled before that can be
    replaced by React's own, empty, and the form then never submits."""
    page.wait_for_function(
        """id => { const el = document.getElementById(id);
            return !!el && Object.keys(el).some(k => k.startsWith('__reactFiber')); }""",
        arg=element_id,
        timeout=TIMEOUT,
    )


def sign_in(page: Page, email: str) -> None:
    react_owns(page, "email")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def new_session(page: Page) -> str:
    page.get_by_role("button", name="New session", exact=True).click()
    page.wait_for_url(re.compile(r"/s/[0-9a-f]{32}$"), timeout=TIMEOUT)
    return page.url.rsplit("/", 1)[-1]


def send(page: Page, text: str) -> None:
    """Type into the composer and press Enter, once the previous turn has finished."""
    expect(page.get_by_role("button", name="Send message")).to_be_visible(timeout=TIMEOUT)
    composer = page.get_by_label("Message", exact=True)
    composer.fill(text)
    composer.press("Enter")


_emails = itertools.count(1)


def unique_email(name: str) -> str:
    return f"{name}{next(_emails)}@example.com"


def conversation(page: Page) -> Locator:
    return page.get_by_test_id("conversation")


def send_and_wait(page: Page, text: str) -> None:
    """Send, then wait for this turn (not the last one) to finish."""
    send(page, text)
    # The handler clears the composer in the same update that marks the new turn queued.
    expect(page.get_by_label("Message", exact=True)).to_have_value("", timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)

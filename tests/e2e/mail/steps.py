"""Steps the browser tests of the mail app share."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORD, TIMEOUT, react_owns
from tests.e2e.mail.conftest import MailApp


def notice(page: Page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text, timeout=TIMEOUT)


def create_verified(page: Page, app: MailApp, email: str) -> None:
    """Sign up, open the confirmation link from the mail: signed out, confirmed."""
    before = app.smtp.count()
    page.goto(f"{app.url}/signup")
    react_owns(page, "email")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    notice(page, "a link to confirm it is on its way")
    page.goto(app.smtp.link(email, "/auth/verify?token=", after=before))
    notice(page, "Your email address is confirmed.")

"""Steps the browser tests of the mail app share."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import TIMEOUT, submit_sign_up
from tests.e2e.mail.conftest import MailApp


def notice(page: Page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text, timeout=TIMEOUT)


def create_verified(page: Page, app: MailApp, email: str) -> None:
    """Sign up, open the confirmation link from the mail: signed out, confirmed."""
    before = app.smtp.count()
    submit_sign_up(page, app.url, email)
    notice(page, "a link to confirm it is on its way")
    page.goto(app.smtp.link(email, "/auth/verify?token=", after=before))
    notice(page, "Your email address is confirmed.")

"""EMAIL_VERIFICATION=optional in the browser: a new account is signed in at once, its Account
page shows the "not confirmed" banner (and can mail the link again) until the mailed link is
followed, and no longer after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.helpers import (
    TIMEOUT,
    expect_signed_in,
    submit_sign_up,
    unique_email,
)
from tests.e2e.mail.conftest import MailApp, started_mail_app
from tests.e2e.mail.steps import notice

VERIFY = "/auth/verify?token="


@pytest.fixture(scope="module")
def optional_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailApp]:
    with started_mail_app(
        tmp_path_factory.mktemp("optional"), EMAIL_VERIFICATION="optional"
    ) as app:
        yield app


def test_the_banner_stays_until_the_mailed_link_is_followed(
    browser: Browser, optional_app: MailApp
) -> None:
    email = unique_email("optional")
    context = browser.new_context()
    page = context.new_page()
    submit_sign_up(page, optional_app.url, email)
    # Optional: in at once, with a link on its way.
    expect_signed_in(page, email)
    first = optional_app.smtp.link(email, VERIFY)

    page.goto(f"{optional_app.url}/account")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible(timeout=TIMEOUT)
    banner = page.get_by_test_id("verify-banner")
    expect(banner).to_contain_text("not confirmed yet", timeout=TIMEOUT)
    # Still there on the next visit: only the link ends it.
    page.reload()
    expect(banner).to_be_visible(timeout=TIMEOUT)
    before = optional_app.smtp.count()
    banner.get_by_role("button", name="Send the link again").click()
    second = optional_app.smtp.link(email, VERIFY, after=before)
    assert second != first

    page.goto(second)
    notice(page, "Your email address is confirmed.")
    page.goto(f"{optional_app.url}/account")
    expect_signed_in(page, email)
    # The two-factor section appears with the same page load that reads the verification.
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible(timeout=TIMEOUT)
    expect(banner).to_have_count(0, timeout=TIMEOUT)
    context.close()

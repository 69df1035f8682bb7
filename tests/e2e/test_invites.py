"""An admin makes an invite link on the admin page; it signs one person up, once."""

from __future__ import annotations

import sqlite3
import time

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import PASSWORD, TIMEOUT, expect_signed_in, sign_up, unique_email


def test_an_invite_link_signs_up_one_person(browser: Browser, app_server: RunningApp) -> None:
    admin = browser.new_context()
    page = admin.new_page()
    email = unique_email("inviter")
    sign_up(page, app_server, email)
    # The e2e server's first account may belong to another test: make this one an admin.
    with sqlite3.connect(app_server.data_dir / "compymac.db") as db:
        db.execute("UPDATE users SET is_admin = 1 WHERE email = ?", (email,))
    time.sleep(1.2)  # changed behind the app's back: its user cache (1 s here) must expire
    page.goto(f"{app_server.url}/admin")
    page.get_by_role("button", name="Make an invite link").click()
    link = page.get_by_test_id("invite-url")
    expect(link).to_contain_text("/signup?invite=", timeout=TIMEOUT)
    url = link.inner_text()
    assert url.startswith(app_server.url)

    for attempt in range(2):
        guest = browser.new_context()
        visitor = guest.new_page()
        visitor.goto(url)
        # The hidden field is filled from the URL once the page's state has loaded (as `next`).
        token = url.split("invite=", 1)[1]
        expect(visitor.locator("input[name=invite]")).to_have_value(token, timeout=TIMEOUT)
        invited = unique_email("invited")
        visitor.get_by_label("Email").fill(invited)
        visitor.get_by_label("Password").fill(PASSWORD)
        visitor.get_by_role("button", name="Create account").click()
        if attempt == 0:
            expect_signed_in(visitor, invited)
        else:  # the link was used: refused, and the form keeps it for a retry
            expect(visitor.get_by_role("alert")).to_contain_text(
                "valid invite link", timeout=TIMEOUT
            )
            assert "invite=" in visitor.url
        guest.close()
    admin.close()

"""The admin page: search users, delete one after a confirmation dialog (local directory),
and the usage dashboard."""

from __future__ import annotations

import re
import sqlite3
import time

from playwright.sync_api import Browser, expect

from tests.e2e.helpers import (
    PASSWORD,
    TIMEOUT,
    expect_signed_in,
    new_session,
    send_and_wait,
    sign_in,
    unique_email,
)
from tests.e2e.mail.conftest import MailApp
from tests.e2e.mail.steps import create_verified


def test_admin_searches_users_and_deletes_one_after_confirming(
    browser: Browser, mail_app: MailApp
) -> None:
    admin_email = unique_email("boss")
    tag = f"zz{int(time.time())}"
    leaving, staying = f"{tag}-leaving@example.com", f"{tag}-staying@example.com"
    context = browser.new_context()
    page = context.new_page()
    for email in (admin_email, leaving, staying):
        create_verified(page, mail_app, email)
    with sqlite3.connect(mail_app.app.data_dir / "compymac.db") as db:
        db.execute("UPDATE users SET is_admin = 1 WHERE email = ?", (admin_email,))
    time.sleep(1.2)  # changed behind the app's back: its user cache (1 s here) must expire
    sign_in(page, admin_email)
    expect_signed_in(page, admin_email)

    page.goto(f"{mail_app.url}/admin")
    rows = page.get_by_test_id("admin-user-row")
    expect(rows.first).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Search users").fill(tag.upper())
    page.get_by_role("button", name="Search", exact=True).click()
    expect(rows).to_have_count(2, timeout=TIMEOUT)
    expect(page.get_by_test_id("users-page")).to_have_text("Page 1")

    page.get_by_role("button", name=f"Delete {leaving}").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Delete {leaving}?", timeout=TIMEOUT)
    expect(dialog).to_contain_text("This cannot be undone")
    dialog.get_by_role("button", name="Cancel").click()
    expect(rows).to_have_count(2)
    page.get_by_role("button", name=f"Delete {leaving}").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(1, timeout=TIMEOUT)
    expect(rows).to_contain_text(staying)
    # Never oneself: the admin's own row offers no deletion.
    page.get_by_label("Search users").fill(admin_email)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(rows).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_role("button", name=f"Delete {admin_email}")).to_be_disabled()

    page.get_by_label("Filter by action").select_option("user.delete")
    page.get_by_role("button", name="Filter").click()
    audit = page.get_by_test_id("audit-row")
    expect(audit).to_have_count(1, timeout=TIMEOUT)
    expect(audit).to_contain_text(leaving)
    context.close()

    gone = browser.new_context()
    gone_page = gone.new_page()
    gone_page.goto(f"{mail_app.url}/signin")
    gone_page.get_by_label("Email").fill(leaving)
    gone_page.get_by_label("Password").fill(PASSWORD)
    gone_page.get_by_role("button", name="Sign in").click()
    expect(gone_page.get_by_role("alert")).to_contain_text(
        "Wrong email or password", timeout=TIMEOUT
    )
    gone.close()


def test_admin_sees_the_usage_dashboard(browser: Browser, mail_app: MailApp) -> None:
    admin_email = unique_email("metrics")
    context = browser.new_context()
    page = context.new_page()
    create_verified(page, mail_app, admin_email)
    with sqlite3.connect(mail_app.app.data_dir / "compymac.db") as db:
        db.execute("UPDATE users SET is_admin = 1 WHERE email = ?", (admin_email,))
    time.sleep(1.2)
    sign_in(page, admin_email)
    expect_signed_in(page, admin_email)
    new_session(page)
    send_and_wait(page, "list the files")

    page.goto(f"{mail_app.url}/admin")
    expect(page.get_by_role("heading", name="Usage")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Usage range").select_option("7")
    turns = page.get_by_test_id("usage-turns")
    expect(turns).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=TIMEOUT)
    expect(page.get_by_test_id("usage-active_users")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_test_id("usage-user-row").filter(has_text=admin_email)).to_have_count(1)
    expect(page.get_by_test_id("usage-storage-row").filter(has_text=admin_email)).to_have_count(1)
    # The charts are drawn (recharts renders SVG surfaces).
    expect(page.locator(".recharts-surface").first).to_be_visible(timeout=TIMEOUT)
    context.close()

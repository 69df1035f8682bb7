"""The admin page's audit log: a failed sign-in shows up, filtered by user and action."""

from __future__ import annotations

import sqlite3
import time

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, sign_up, unique_email


def test_the_admin_filters_the_audit_log(browser: Browser, app_server: RunningApp) -> None:
    email, target = unique_email("auditor"), unique_email("audited")
    admin = browser.new_context()
    page = admin.new_page()
    sign_up(page, app_server, email)
    with sqlite3.connect(app_server.data_dir / "compymac.db") as db:
        db.execute("UPDATE users SET is_admin = 1 WHERE email = ?", (email,))
    time.sleep(1.2)  # changed behind the app's back: its user cache (1 s here) must expire

    other = browser.new_context()
    visitor = other.new_page()
    sign_up(visitor, app_server, target)
    visitor.get_by_role("button", name="Sign out").click()
    visitor.get_by_label("Email").fill(target)
    visitor.get_by_label("Password").fill("a wrong password here")
    visitor.get_by_role("button", name="Sign in").click()
    expect(visitor.get_by_role("alert")).to_contain_text("Wrong email", timeout=TIMEOUT)

    page.goto(f"{app_server.url}/admin")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Filter by user email").fill(target)
    page.get_by_label("Filter by action").select_option("signin")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("audit-row")
    expect(rows).to_have_count(1, timeout=TIMEOUT)
    expect(rows).to_contain_text("failed")
    expect(rows).not_to_contain_text("a wrong password here")
    page.get_by_label("Filter by action").select_option("signout")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1, timeout=TIMEOUT)
    expect(rows).to_contain_text("signout")
    admin.close()
    other.close()

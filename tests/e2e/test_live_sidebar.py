"""A user's session changes reach all of that user's tabs, on both profiles.

Inline: the shared e2e app (in-process bus). Celery: the `celery_app` fixture, an app on
PostgreSQL with the Redis bus, Redis state and the Celery runner.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, new_session, send, sign_up, unique_email


@pytest.fixture(params=["inline", "celery"])
def profile_app(request: pytest.FixtureRequest) -> RunningApp:
    name = "app_server" if request.param == "inline" else "celery_app"
    app: RunningApp = request.getfixturevalue(name)
    return app


def open_actions(page: Page, title: str) -> None:
    page.get_by_role("button", name=f"Actions for {title}").click()


def two_tabs(browser: Browser, app: RunningApp, name: str) -> tuple[BrowserContext, Page, Page]:
    context = browser.new_context()
    first = context.new_page()
    sign_up(first, app, unique_email(name))
    second = context.new_page()
    second.goto(app.url)
    expect(second.get_by_role("button", name="New session", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    return context, first, second


def test_changes_in_one_tab_reach_the_other(browser: Browser, profile_app: RunningApp) -> None:
    context, first, second = two_tabs(browser, profile_app, "livebar")
    # Another user's tab sees none of it.
    stranger_context = browser.new_context()
    stranger = stranger_context.new_page()
    sign_up(stranger, profile_app, unique_email("stranger"))
    stranger_rows = stranger.get_by_test_id("session-row")
    expect(stranger_rows).to_have_count(0)
    b_rows = second.get_by_test_id("session-row")

    session_id = new_session(first)
    expect(b_rows).to_have_count(1, timeout=TIMEOUT)
    expect(b_rows.first).to_contain_text("New session")
    # The first message names the session (automatic title).
    send(first, "run echo named")
    expect(b_rows.first).to_contain_text("run echo named", timeout=TIMEOUT)

    # Tab B opens the session; a rename in tab A changes B's sidebar and B's header.
    second.goto(f"{profile_app.url}/s/{session_id}")
    expect(second.get_by_role("heading", name="run echo named")).to_be_visible(timeout=TIMEOUT)
    open_actions(first, "run echo named")
    first.get_by_role("menuitem", name="Rename").click()
    first.get_by_label("Session title").fill("Renamed in A")
    first.get_by_role("button", name="Save").click()
    expect(b_rows.first).to_contain_text("Renamed in A", timeout=TIMEOUT)
    expect(second.get_by_role("heading", name="Renamed in A")).to_be_visible()

    # A second session, then archiving the first: it leaves B's list.
    new_session(first)
    # A's own list settles first: rows are keyed by position, so a menu opened while the new
    # row arrives would act on the row that took its place.
    expect(first.get_by_test_id("session-row")).to_have_count(2, timeout=TIMEOUT)
    expect(b_rows).to_have_count(2, timeout=TIMEOUT)
    open_actions(first, "Renamed in A")
    first.get_by_role("menuitem", name="Archive").click()
    expect(b_rows).to_have_count(1, timeout=TIMEOUT)
    expect(b_rows.first).to_contain_text("New session")
    open_actions(first, "New session")
    first.get_by_role("menuitem", name="Delete").click()
    first.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(b_rows).to_have_count(0, timeout=TIMEOUT)

    # Unarchived in A: back in B's list, and still open in B.
    first.get_by_role("button", name="Show archived").click()
    open_actions(first, "Renamed in A")
    first.get_by_role("menuitem", name="Unarchive").click()
    expect(b_rows).to_have_count(1, timeout=TIMEOUT)

    # Deleted in A while B has it open: B says so, and its composer is gone.
    first.get_by_role("button", name="Show active").click()
    open_actions(first, "Renamed in A")
    first.get_by_role("menuitem", name="Delete").click()
    first.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(second.get_by_test_id("not-found")).to_contain_text(
        "deleted in another tab", timeout=TIMEOUT
    )
    expect(second.get_by_label("Message", exact=True)).to_have_count(0)
    expect(b_rows).to_have_count(0)

    expect(stranger_rows).to_have_count(0)
    stranger_context.close()
    context.close()

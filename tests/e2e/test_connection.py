"""The connection banner: the network gone (the page offline), then back."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, conversation, new_session, send, sign_up, unique_email

SLOW_PROMPT = "what can you do?"
GUIDE_END = "settings page"


def drop_the_connection(page: Page) -> None:
    """The network goes (Chromium's offline mode fails new connections, as a stopped backend
    refuses them) and the page's open socket with it: Reflex's own page-hide handler closes
    it, and a visibility check starts its reconnecting, as after a real drop."""
    page.context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")


def test_the_banner_while_offline_and_the_catch_up_after(
    browser: Browser, app_server: RunningApp
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("offline"))
    banner = page.get_by_test_id("connection-banner")
    expect(banner).to_have_count(0)
    new_session(page)
    composer = page.get_by_label("Message", exact=True)
    send(page, SLOW_PROMPT)
    live = page.get_by_test_id("live-reply")
    expect(live).to_be_visible(timeout=TIMEOUT)
    shown_before = len(live.inner_text())

    drop_the_connection(page)
    expect(banner).to_have_text("Reconnecting…", timeout=TIMEOUT)
    expect(composer).to_be_disabled()
    expect(banner).to_have_text("Offline — changes will not be sent", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Send message")).to_have_count(0)  # still running
    # No Reflex toast beside it.
    expect(page.get_by_text("Cannot connect to server")).to_have_count(0)
    expect(page.get_by_text("Check if server is reachable")).to_have_count(0)

    context.set_offline(False)
    expect(banner).to_have_count(0, timeout=TIMEOUT)
    expect(composer).to_be_enabled()
    # The turn went on meanwhile; the page catches up on it, nothing twice.
    # (It may have ended while offline: the reloaded page then shows it stored, no badge.)
    expect(page.get_by_text(re.compile(GUIDE_END))).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Send message")).to_be_enabled()
    expect(conversation(page).get_by_text(SLOW_PROMPT)).to_have_count(1)
    assert len(conversation(page).inner_text()) > shown_before
    # And it works as before.
    send(page, "run echo back-online")
    expect(conversation(page).get_by_text("back-online").last).to_be_visible(timeout=TIMEOUT)
    context.close()

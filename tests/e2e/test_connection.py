"""The connection banner: the network gone (the page offline), then back."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import CeleryProfileApp, RunningApp
from tests.e2e.helpers import TIMEOUT, conversation, new_session, send, sign_up, unique_email

SLOW_PROMPT = "what can you do?"
GUIDE_END = "Settings page"


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
    status = page.get_by_test_id("job-status")
    send(page, SLOW_PROMPT)
    live = page.get_by_test_id("live-reply")
    expect(live).to_be_visible(timeout=TIMEOUT)

    # A short drop mid-turn: "Reconnecting…", the composer disabled; back, the turn goes on
    # from the last event the tab had (the app says so in its log), nothing twice.
    drop_the_connection(page)
    expect(banner).to_have_text("Reconnecting…", timeout=TIMEOUT)
    expect(composer).to_be_disabled()
    page.wait_for_timeout(1000)  # the turn goes on meanwhile
    context.set_offline(False)
    expect(banner).to_have_count(0, timeout=TIMEOUT)
    expect(composer).to_be_enabled()
    expect(status).to_contain_text("running")
    expect(status).to_contain_text("done", timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(GUIDE_END))).to_have_count(1)
    expect(conversation(page).get_by_text(SLOW_PROMPT)).to_have_count(1)
    log = (app_server.data_dir / "app.log").read_text(errors="replace")
    assert "is back on job" in log and "resumed after seq" in log

    # A long one: after a few seconds the page says it is offline. No Reflex toast beside it.
    send(page, SLOW_PROMPT)
    expect(live).to_be_visible(timeout=TIMEOUT)
    drop_the_connection(page)
    expect(banner).to_have_text("Offline — changes will not be sent", timeout=TIMEOUT)
    expect(composer).to_be_disabled()
    expect(page.get_by_text("Cannot connect to server")).to_have_count(0)
    expect(page.get_by_text("Check if server is reachable")).to_have_count(0)
    context.set_offline(False)
    expect(banner).to_have_count(0, timeout=TIMEOUT)
    # The turn may have ended while offline: the page then shows it stored, without a badge.
    expect(page.get_by_text(re.compile(GUIDE_END))).to_have_count(2, timeout=TIMEOUT)
    expect(conversation(page).get_by_text(SLOW_PROMPT)).to_have_count(2)
    send(page, "run echo back-online")
    expect(conversation(page).get_by_text("back-online").last).to_be_visible(timeout=TIMEOUT)
    context.close()


def test_the_banner_while_the_backend_is_stopped(
    browser: Browser, celery_app: CeleryProfileApp
) -> None:
    """The production profile keeps tab state in Redis: the same page goes on after a restart."""
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, celery_app, unique_email("restart"))
    new_session(page)
    composer = page.get_by_label("Message", exact=True)
    banner = page.get_by_test_id("connection-banner")
    expect(composer).to_be_enabled(timeout=TIMEOUT)
    celery_app.backend.stop()
    try:
        expect(banner).to_have_text("Reconnecting…", timeout=TIMEOUT)
        expect(composer).to_be_disabled()
        expect(banner).to_have_text("Offline — changes will not be sent", timeout=TIMEOUT)
    finally:
        celery_app.backend.start()
    expect(banner).to_have_count(0, timeout=60_000)
    expect(composer).to_be_enabled()
    # The same session, still usable (no worker runs here: the turn waits in line).
    send(page, "after the restart")
    expect(conversation(page).get_by_text("after the restart")).to_be_visible(timeout=TIMEOUT)
    context.close()

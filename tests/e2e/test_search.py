"""Search from the sidebar: a keyboard shortcut, highlighted results, open at the hit."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import (
    TIMEOUT,
    conversation,
    new_session,
    send_and_wait,
    sign_up,
    unique_email,
)


def test_search_opens_the_session_at_the_hit(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 700})
    page = context.new_page()
    sign_up(page, app_server, unique_email("search"))
    session_id = new_session(page)
    send_and_wait(page, "run echo marmalade <b>sandwich</b>")
    for n in range(3):  # 12 messages: the hit is two pages (of 6) back
        send_and_wait(page, f"run echo filler-{n}")
    new_session(page)  # leave it: the search must bring it back

    page.keyboard.press("Control+k")
    box = page.get_by_label("Search your sessions")
    expect(box).to_be_focused()
    box.press_sequentially("marma")
    result = page.get_by_test_id("search-result")
    expect(result).to_have_count(1, timeout=TIMEOUT)
    expect(result.locator("mark").first).to_have_text("marmalade")
    # Content is text: the tags show as typed, nothing is rendered from them.
    expect(result).to_contain_text("<b>sandwich</b>")
    expect(result.locator("b")).to_have_count(0)

    result.click()
    page.wait_for_url(re.compile(rf"/s/{session_id}\?m=\d+$"), timeout=TIMEOUT)
    hit = page.locator(".search-hit")
    expect(hit).to_contain_text("marmalade", timeout=TIMEOUT)
    expect(hit).to_be_in_viewport()
    expect(conversation(page).get_by_text("run echo filler-2")).to_be_attached()

    box.fill("nothing-like-this-anywhere")
    expect(page.get_by_test_id("search-results")).to_contain_text("Nothing found", timeout=TIMEOUT)
    context.close()


def test_search_never_shows_another_users_sessions(
    browser: Browser, app_server: RunningApp
) -> None:
    owner = browser.new_context()
    page = owner.new_page()
    sign_up(page, app_server, unique_email("searchowner"))
    new_session(page)
    send_and_wait(page, "run echo pomegranate")
    # Archived sessions are found only when asked for.
    page.get_by_role("button", name="Actions for run echo pomegranate").click()
    page.get_by_role("menuitem", name="Archive").click()
    expect(page.get_by_test_id("session-row")).to_have_count(0, timeout=TIMEOUT)
    page.get_by_label("Search your sessions").fill("pomegranate")
    expect(page.get_by_test_id("search-results")).to_contain_text("Nothing found", timeout=TIMEOUT)
    page.get_by_label("Include archived sessions").click()
    expect(page.get_by_test_id("search-result")).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_test_id("search-result").locator("mark").first).to_have_text("pomegranate")
    owner.close()

    other = browser.new_context()
    page = other.new_page()
    sign_up(page, app_server, unique_email("searchother"))
    page.get_by_label("Search your sessions").fill("pomegranate")
    expect(page.get_by_test_id("search-results")).to_contain_text("Nothing found", timeout=TIMEOUT)
    expect(page.get_by_test_id("search-result")).to_have_count(0)
    other.close()

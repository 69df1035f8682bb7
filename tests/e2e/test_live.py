"""Live turns: two tabs, reload mid-turn, stop, and a revoked session."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import (
    TIMEOUT,
    conversation,
    new_session,
    send,
    send_and_wait,
    sign_up,
    unique_email,
)

# Anything the builtin agent does not know gets its guide: a reply long enough to watch stream.
SLOW_PROMPT = "what can you do?"
GUIDE_END = "Settings page"


def test_two_tabs_show_the_same_live_turn(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    first = context.new_page()
    sign_up(first, app_server, unique_email("tabs"))
    session_id = new_session(first)
    second = context.new_page()
    second.goto(f"{app_server.url}/s/{session_id}")
    expect(second.get_by_label("Message", exact=True)).to_be_visible(timeout=TIMEOUT)

    send(first, SLOW_PROMPT)
    expect(second.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    expect(second.get_by_test_id("job-status")).to_contain_text("running")
    expect(conversation(second).get_by_text(SLOW_PROMPT)).to_be_visible()
    expect(second.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    expect(second.get_by_text(re.compile(GUIDE_END))).to_have_count(1)
    expect(first.get_by_text(re.compile(GUIDE_END))).to_have_count(1)
    context.close()


def test_a_reload_mid_turn_catches_up_without_duplicates(
    browser: Browser, app_server: RunningApp
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("reload"))
    new_session(page)
    send(page, SLOW_PROMPT)
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    page.reload()
    expect(page.get_by_test_id("job-status")).to_contain_text("running", timeout=TIMEOUT)
    expect(page.get_by_test_id("live-reply")).to_be_visible()
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(GUIDE_END))).to_have_count(1)
    expect(conversation(page).get_by_text(SLOW_PROMPT)).to_have_count(1)
    context.close()


def test_stop_cancels_the_running_turn(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("stop"))
    new_session(page)
    send(page, SLOW_PROMPT)
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Stop the running turn").click()
    expect(page.get_by_test_id("job-status")).to_contain_text("stopped", timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(GUIDE_END))).to_have_count(0)
    # The composer is usable again.
    send(page, "run echo again")
    expect(page.get_by_text("again").last).to_be_visible(timeout=TIMEOUT)
    context.close()


def test_a_revoked_session_goes_to_sign_in_on_the_next_action(
    browser: Browser, app_server: RunningApp
) -> None:
    context = browser.new_context()
    first = context.new_page()
    sign_up(first, app_server, unique_email("revoked"))
    second = context.new_page()
    second.goto(app_server.url)
    expect(second.get_by_role("button", name="New session", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    first.get_by_role("button", name="Sign out").click()
    first.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    second.get_by_role("button", name="New session", exact=True).click()
    second.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    expect(second.get_by_role("alert")).to_contain_text("Your session has ended")
    context.close()


def _user_lines_top_to_bottom(page: Page) -> list[str]:
    """The user bubbles' texts in the order the eye reads them (CSS `order` places the live
    window's slots, so the DOM order is not the reading order)."""
    bubbles = conversation(page).locator(".bubble.user")
    placed = []
    for index in range(bubbles.count()):
        bubble = bubbles.nth(index)
        box = bubble.bounding_box()
        if box is not None:
            placed.append((box["y"], bubble.inner_text().strip()))
    return [text for _y, text in sorted(placed)]


def test_a_long_live_session_keeps_its_order_and_gives_older_messages_back(
    browser: Browser, app_server: RunningApp
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("window"))
    new_session(page)
    prompts = [f"run echo line{n:02d}" for n in range(1, 10)]
    for prompt in prompts:  # each turn lands a few messages: the window wraps round
        send_and_wait(page, prompt)
    shown = _user_lines_top_to_bottom(page)
    assert shown == prompts[len(prompts) - len(shown) :], shown
    assert 0 < len(shown) < len(prompts)  # the oldest left the view...
    first = conversation(page).get_by_text(prompts[0], exact=True)
    for _ in range(len(prompts)):  # ...and come back, a page at a time
        if first.count():
            break
        messages = conversation(page).locator(".bubble")
        before = messages.count()
        page.get_by_role("button", name="Load older messages").click()
        expect(messages).not_to_have_count(before, timeout=TIMEOUT)
    expect(first).to_be_visible()
    assert _user_lines_top_to_bottom(page) == prompts
    context.close()

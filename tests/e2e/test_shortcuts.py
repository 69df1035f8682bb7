"""Keyboard shortcuts: each one, its help dialog, and none while typing where it would interfere."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, send, sign_up, unique_email

SLOW_PROMPT = "what can you do?"
SESSION_URL = re.compile(r"/s/[0-9a-f]{32}$")


def test_each_shortcut_and_none_while_typing(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("keys"))
    composer = page.get_by_label("Message", exact=True)
    help_dialog = page.get_by_test_id("shortcuts-dialog")
    # The keys are wired by a script the page loads after it hydrates: a key pressed before
    # that is lost (as a person's would be, in the same few milliseconds).
    page.wait_for_function("() => window.__shortcutsWired === true", timeout=TIMEOUT)

    # "?" opens the list; Esc closes it.
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible(timeout=TIMEOUT)
    expect(help_dialog).to_contain_text("Stop the running turn")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # New session, twice; the newest is on top and open.
    page.keyboard.press("Control+Shift+O")
    page.wait_for_url(SESSION_URL, timeout=TIMEOUT)
    first_url = page.url
    expect(composer).to_be_focused(timeout=TIMEOUT)
    page.keyboard.press("Control+Shift+O")  # from inside the message box: no text to interfere
    page.wait_for_url(lambda url: SESSION_URL.search(url) is not None and url != first_url)
    second_url = page.url
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(2, timeout=TIMEOUT)

    # Typed into the message box, "?" and Alt+Arrow are text and caret moves.
    expect(composer).to_be_focused(timeout=TIMEOUT)
    composer.press("?")
    expect(composer).to_have_value("?")
    expect(help_dialog).to_be_hidden()
    composer.press("Alt+ArrowDown")
    page.wait_for_timeout(500)
    assert page.url == second_url

    # Out of the field: Alt+Down / Alt+Up move between sessions.
    page.get_by_test_id("conversation").click()
    page.keyboard.press("Alt+ArrowDown")
    page.wait_for_url(first_url, timeout=TIMEOUT)
    expect(rows.nth(1)).to_have_class(re.compile(r"\bactive\b"), timeout=TIMEOUT)
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_url(second_url, timeout=TIMEOUT)

    # Shift+Esc focuses the message box; Ctrl+K the search box.
    page.get_by_test_id("conversation").click()
    expect(composer).not_to_be_focused()
    page.keyboard.press("Shift+Escape")
    expect(composer).to_be_focused()
    page.keyboard.press("Control+k")
    expect(page.get_by_label("Search your sessions")).to_be_focused()

    # Ctrl+Shift+S hides and shows the sessions list.
    new_button = page.get_by_role("button", name="New session", exact=True)
    page.keyboard.press("Control+Shift+S")
    expect(new_button).to_be_hidden()
    page.keyboard.press("Control+Shift+S")
    expect(new_button).to_be_visible()

    # Esc stops the running turn, but not while a dialog is open (it closes the dialog).
    send(page, SLOW_PROMPT)
    status = page.get_by_test_id("job-status")
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(help_dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.wait_for_timeout(500)
    expect(status).to_contain_text("running")
    composer.focus()
    page.keyboard.press("Escape")
    expect(status).to_contain_text("stopped", timeout=TIMEOUT)
    context.close()

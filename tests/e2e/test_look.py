"""Copy buttons, code blocks, themes kept per user, the phone layout, the builtin's help."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import (
    DOCS,
    TIMEOUT,
    new_session,
    send,
    send_and_wait,
    sign_in,
    sign_up,
    unique_email,
)

DARK = re.compile(r"\bdark\b")
LIGHT = re.compile(r"\blight\b")
# Recorded before any of the app's scripts run after parsing: what the first paint shows.
RECORD_THEME_AT_LOAD = """document.addEventListener("DOMContentLoaded", () => {
  window.__themeAtLoad = document.documentElement.className;
});"""


def _clipboard_context(browser: Browser, app: RunningApp) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.url)
    return context


def _clipboard(page: Page) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def test_copy_a_message_and_a_code_block(browser: Browser, app_server: RunningApp) -> None:
    context = _clipboard_context(browser, app_server)
    page = context.new_page()
    sign_up(page, app_server, unique_email("copy"))
    new_session(page)
    send_and_wait(page, "```python\nprint('hi')\n```")

    block = page.get_by_test_id("code-block").first
    expect(block.get_by_test_id("code-language")).to_have_text("python", timeout=TIMEOUT)
    expect(block).to_contain_text("print('hi')")
    copy_code = block.get_by_role("button", name="Copy code")
    copy_code.click()
    expect(copy_code).to_contain_text("Copied")
    assert _clipboard(page) == "print('hi')"
    # The confirmation is short.
    expect(copy_code).not_to_contain_text("Copied", timeout=5_000)

    # The builtin's guide (free text gets it) is the assistant message: copied as its source.
    reply = page.locator(".bubble.assistant").last
    expect(reply).to_contain_text("built-in assistant")
    copy_reply = page.get_by_role("button", name="Copy message").last
    copy_reply.click()
    expect(copy_reply).to_contain_text("Copied")
    copied = _clipboard(page)
    assert copied.startswith("I'm the built-in assistant")
    assert "- `ls [folder]`" in copied  # the markdown source, not the rendered text

    page.get_by_role("button", name="Copy message").first.click()
    expect(page.get_by_role("button", name="Copy message").first).to_contain_text("Copied")
    assert _clipboard(page) == "```python\nprint('hi')\n```"
    context.close()


def test_a_fence_without_a_language_is_labelled_text(
    browser: Browser, app_server: RunningApp
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("fence"))
    new_session(page)
    send_and_wait(page, "help")
    # The help has a fenced example without a language.
    expect(page.get_by_test_id("code-language").first).to_have_text("text", timeout=TIMEOUT)
    expect(page.get_by_test_id("code-block").first).to_contain_text("write notes/todo.md")
    context.close()


def _choose_in_menu(page: Page, mode: str) -> None:
    page.get_by_test_id("theme-menu").first.click()
    page.get_by_test_id(f"theme-{mode}").click()


def _expect_saved_on_settings(page: Page, app: RunningApp, label: str) -> None:
    page.goto(f"{app.url}/settings")
    expect(page.get_by_role("radio", name=label)).to_be_checked(timeout=TIMEOUT)


def test_the_theme_is_kept_per_user_without_a_flash(
    browser: Browser, app_server: RunningApp
) -> None:
    email = unique_email("theme")
    first = browser.new_context(color_scheme="light")
    first.add_init_script(RECORD_THEME_AT_LOAD)
    page = first.new_page()
    sign_up(page, app_server, email)
    expect(page.locator("html")).to_have_class(LIGHT, timeout=TIMEOUT)
    _choose_in_menu(page, "dark")
    expect(page.locator("html")).to_have_class(DARK)
    # Stored with the account: the Settings page reads it back from the database.
    _expect_saved_on_settings(page, app_server, "Dark")

    # No flash: the html element is dark before any of the app's scripts ran.
    page.goto(app_server.url)
    expect(page.get_by_test_id("theme-menu").first).to_be_visible(timeout=TIMEOUT)
    assert DARK.search(page.evaluate("window.__themeAtLoad"))
    page.reload()
    expect(page.get_by_test_id("theme-menu").first).to_be_visible(timeout=TIMEOUT)
    assert DARK.search(page.evaluate("window.__themeAtLoad"))
    expect(page.locator("html")).to_have_class(DARK)

    # A new browser: the account's choice wins after sign-in, and is then flash-free there too.
    second = browser.new_context(color_scheme="light")
    second.add_init_script(RECORD_THEME_AT_LOAD)
    other = second.new_page()
    other.goto(f"{app_server.url}/signin")
    sign_in(other, email)
    expect(other.locator("html")).to_have_class(DARK, timeout=TIMEOUT)
    other.reload()
    expect(other.get_by_test_id("theme-menu").first).to_be_visible(timeout=TIMEOUT)
    assert DARK.search(other.evaluate("window.__themeAtLoad"))

    # Settings changes it too; "System" follows the browser's preference.
    other.goto(f"{app_server.url}/settings")
    other.get_by_role("radio", name="Light").click()
    expect(other.locator("html")).to_have_class(LIGHT)
    other.get_by_role("radio", name="System").click()
    expect(other.locator("html")).to_have_class(LIGHT)
    other.emulate_media(color_scheme="dark")
    expect(other.locator("html")).to_have_class(DARK)
    _expect_saved_on_settings(page, app_server, "System")
    first.close()
    second.close()


def test_the_phone_layout_keeps_text_off_the_edge(browser: Browser, app_server: RunningApp) -> None:
    width = 390
    context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_up(page, app_server, unique_email("phone"))
    text = page.get_by_test_id("empty-state").get_by_text("Each session has its own folder")
    expect(text).to_be_visible(timeout=TIMEOUT)
    box = text.bounding_box()
    assert box is not None
    assert box["x"] >= 16, box
    assert box["x"] + box["width"] <= width - 16, box
    context.close()


def test_the_builtin_help_says_keys_are_added_on_settings(
    browser: Browser, app_server: RunningApp
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("help"))
    new_session(page)
    send_and_wait(page, "help")
    reply = page.locator(".bubble.assistant").last
    expect(reply).to_contain_text("add your API key on the Settings page", timeout=TIMEOUT)
    expect(reply).not_to_contain_text("operator")
    context.close()


def test_readme_screenshots_light_dark_and_phone(browser: Browser, app_server: RunningApp) -> None:
    """docs/screenshot-light.png, -dark.png and -phone.png: one session, as the README shows
    it; on a phone the page never scrolls sideways."""
    email = unique_email("shots")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    page = context.new_page()
    sign_up(page, app_server, email)
    session_id = new_session(page)
    send_and_wait(page, "write hello.py\nprint('hello from python')")
    send_and_wait(page, "run python3 hello.py")
    send_and_wait(page, "Show me a snippet\n```python\nfor n in range(3):\n    print(n)\n```")
    expect(page.locator("html")).to_have_class(LIGHT)
    page.screenshot(path=str(DOCS / "screenshot-light.png"))
    _choose_in_menu(page, "dark")
    expect(page.locator("html")).to_have_class(DARK)
    page.wait_for_timeout(300)  # the highlighter's palette follows on the next render
    page.screenshot(path=str(DOCS / "screenshot-dark.png"))
    context.close()

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, color_scheme="light"
    )
    mobile = phone.new_page()
    mobile.goto(f"{app_server.url}/signin?next=/s/{session_id}")
    sign_in(mobile, email)
    mobile.wait_for_url(re.compile(rf"/s/{session_id}$"), timeout=TIMEOUT)
    expect(mobile.get_by_test_id("code-block").last).to_be_visible(timeout=TIMEOUT)
    assert mobile.evaluate("document.scrollingElement.scrollWidth") <= 390
    mobile.screenshot(path=str(DOCS / "screenshot-phone.png"))
    phone.close()


IN_DIALOG = "!!document.activeElement && !!document.activeElement.closest('[role=dialog]')"


def test_dialog_focus_and_the_polite_live_region(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("focus"))
    new_session(page)
    region = page.get_by_test_id("live-region")
    expect(region).to_have_attribute("aria-live", "polite")
    send(page, "help")
    # The streamed reply appears inside the live region, which stays on the page.
    expect(region.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    expect(region).to_be_attached()

    edit = page.get_by_role("button", name="Edit this message and send it again")
    edit.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT)
    assert page.evaluate(IN_DIALOG)  # focus moved into the dialog
    for _ in range(6):  # and Tab keeps it there
        page.keyboard.press("Tab")
        assert page.evaluate(IN_DIALOG)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    # Focus returns to the button that opened it.
    expect(edit).to_be_focused()
    context.close()

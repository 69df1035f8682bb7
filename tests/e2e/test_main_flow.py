"""The main flows in a real browser against the real app (production build)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import DOCS, TIMEOUT, new_session, send, send_and_wait, sign_in, sign_up


def test_sign_up_chat_reload_isolation_and_sign_out(
    browser: Browser, app_server: RunningApp
) -> None:
    alice_context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = alice_context.new_page()
    sign_up(page, app_server, "alice@example.com")
    session_id = new_session(page)

    send(page, "run echo hello from the sandbox")
    expect(page.get_by_test_id("job-status")).to_contain_text("running", timeout=TIMEOUT)
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    expect(page.get_by_text("hello from the sandbox").first).to_be_visible()

    send_and_wait(page, "write hello.py\nprint('hello from python')")
    expect(page.get_by_text(re.compile(r"Wrote hello\.py \(\d+ bytes\)"))).to_be_visible()
    send_and_wait(page, "run python3 hello.py")
    expect(page.get_by_role("code").filter(has_text="hello from python")).to_be_visible()
    send(page, "ls")
    card = page.get_by_test_id("tool-card").filter(has_text="list_files")
    expect(card).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    card.locator("summary").click()
    expect(card.locator("pre")).to_contain_text("hello.py")

    # The sidebar took its title from the first message.
    expect(page.get_by_test_id("session-row").first).to_contain_text("run echo hello")
    page.screenshot(path=str(DOCS / "screenshot.png"))

    page.reload()
    expect(page.get_by_test_id("tool-card").filter(has_text="list_files")).to_be_visible(
        timeout=TIMEOUT
    )
    expect(page.get_by_text("hello from the sandbox").first).to_be_visible()

    # Another user, another browser context: the deep link shows nothing of Alice's.
    bob_context = browser.new_context()
    bob = bob_context.new_page()
    sign_up(bob, app_server, "bob@example.com")
    bob.goto(f"{app_server.url}/s/{session_id}")
    expect(bob.get_by_test_id("not-found")).to_be_visible(timeout=TIMEOUT)
    expect(bob.get_by_text("hello from the sandbox")).to_have_count(0)
    expect(bob.get_by_test_id("session-row")).to_have_count(0)
    bob_context.close()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    page.goto(f"{app_server.url}/s/{session_id}")
    page.wait_for_url(re.compile(r"/signin\?next=%2Fs%2F" + session_id), timeout=TIMEOUT)

    # Signing in again comes back to the deep-linked session.
    sign_in(page, "alice@example.com")
    page.wait_for_url(re.compile(f"/s/{session_id}$"), timeout=TIMEOUT)
    expect(page.get_by_text("hello from the sandbox").first).to_be_visible(timeout=TIMEOUT)
    alice_context.close()

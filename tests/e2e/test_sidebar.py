"""The sessions sidebar: rename, archive, delete with confirmation, narrow screens, paging."""

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


def open_actions(page: Page, title: str) -> None:
    page.get_by_role("button", name=f"Actions for {title}").click()


def test_rename_archive_unarchive_and_delete(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("sidebar"))
    session_id = new_session(page)
    send(page, "run echo first")
    rows = page.get_by_test_id("session-row")
    expect(rows.first).to_contain_text("run echo first", timeout=TIMEOUT)

    open_actions(page, "run echo first")
    page.get_by_role("menuitem", name="Rename").click()
    title = page.get_by_label("Session title")
    title.fill("x" * 121)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("at most 120")
    title.fill("Build scripts")
    title.press("Enter")
    expect(rows.first).to_contain_text("Build scripts", timeout=TIMEOUT)

    open_actions(page, "Build scripts")
    page.get_by_role("menuitem", name="Archive").click()
    expect(rows).to_have_count(0, timeout=TIMEOUT)
    page.get_by_role("button", name="Show archived").click()
    expect(rows.first).to_contain_text("Build scripts", timeout=TIMEOUT)
    open_actions(page, "Build scripts")
    page.get_by_role("menuitem", name="Unarchive").click()
    expect(rows).to_have_count(0, timeout=TIMEOUT)
    page.get_by_role("button", name="Show active").click()
    expect(rows.first).to_contain_text("Build scripts", timeout=TIMEOUT)

    open_actions(page, "Build scripts")
    page.get_by_role("menuitem", name="Delete").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Build scripts")
    dialog.get_by_role("button", name="Cancel").click()
    expect(rows).to_have_count(1)
    open_actions(page, "Build scripts")
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(0, timeout=TIMEOUT)
    page.wait_for_url(re.compile(r"/$"), timeout=TIMEOUT)
    workspace = app_server.data_dir / "workspaces"
    assert not any(p.name == session_id for p in workspace.glob("*/*"))
    context.close()


def test_the_sidebar_collapses_on_a_narrow_screen(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    sign_up(page, app_server, unique_email("narrow"))
    new_button = page.get_by_role("button", name="New session", exact=True)
    expect(new_button).to_be_hidden()
    page.get_by_role("button", name="Open the sessions list").click()
    expect(new_button).to_be_visible()
    new_session(page)
    expect(new_button).to_be_hidden(timeout=TIMEOUT)
    expect(page.get_by_label("Message", exact=True)).to_be_visible()
    context.close()


def test_older_messages_load_on_scroll(browser: Browser, app_server: RunningApp) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_up(page, app_server, unique_email("paging"))
    new_session(page)
    for n in range(4):  # 4 turns x (user + tool card + reply) = 12 messages; a page holds 6
        send_and_wait(page, f"run echo line-{n}")
    page.reload()
    expect(conversation(page).get_by_text("run echo line-3")).to_be_visible(timeout=TIMEOUT)
    expect(conversation(page).get_by_text("run echo line-0")).to_have_count(0)
    page.get_by_test_id("conversation").hover()
    for _ in range(10):
        page.mouse.wheel(0, -5000)
        page.wait_for_timeout(200)
    expect(conversation(page).get_by_text("run echo line-0")).to_be_visible(timeout=TIMEOUT)
    context.close()

"""Export a session (Markdown, JSON) from the chat page and import it into another account."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, new_session, send_and_wait, sign_up, unique_email


def test_export_then_import_into_another_account(
    browser: Browser, app_server: RunningApp, tmp_path: Path
) -> None:
    alice = browser.new_context(accept_downloads=True)
    page = alice.new_page()
    sign_up(page, app_server, unique_email("exporter"))
    session_id = new_session(page)
    send_and_wait(page, "write travel.txt\nlisbon <i>and</i> porto")

    downloads = {}
    for kind in ("Markdown", "JSON"):
        page.get_by_role("button", name="Export this session").click()
        with page.expect_download() as download:
            page.get_by_role("menuitem", name=kind).click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        downloads[kind] = path
    markdown = downloads["Markdown"].read_text()
    assert "lisbon <i>and</i> porto" in markdown and "### Tool: write_file · ok" in markdown
    exported = json.loads(downloads["JSON"].read_text())
    assert exported["session"]["id"] == session_id
    alice.close()

    bob = browser.new_context()
    page = bob.new_page()
    sign_up(page, app_server, unique_email("importer"))
    page.goto(f"{app_server.url}/settings")
    page.locator("#import-upload input[type=file]").set_input_files(str(downloads["JSON"]))
    page.get_by_role("button", name="Import the chosen files").click()
    expect(page.get_by_test_id("import-notice")).to_have_text(
        "Imported 1 session.", timeout=TIMEOUT
    )

    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "compymac-rx/session", "version": 1}')
    page.locator("#import-upload input[type=file]").set_input_files(str(broken))
    page.get_by_role("button", name="Import the chosen files").click()
    expect(page.get_by_test_id("import-notice")).to_contain_text(
        "broken.json: broken.json is not a session export", timeout=TIMEOUT
    )

    page.goto(app_server.url)
    row = page.get_by_test_id("session-row")
    expect(row).to_have_count(1, timeout=TIMEOUT)
    row.first.locator("a").click()
    expect(page.get_by_text("lisbon <i>and</i> porto").first).to_be_visible(timeout=TIMEOUT)
    assert session_id not in page.url
    bob.close()

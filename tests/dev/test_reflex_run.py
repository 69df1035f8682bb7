"""`reflex run` (development) out of the box: two ports, every HTTP route, hot reload of code
only. The tests share one `reflex run` and run in this order; the last one edits its code."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from compymac_rx.state.files import UPLOAD_ID
from tests.dev.conftest import DevApp
from tests.e2e.helpers import (
    TIMEOUT,
    expect_signed_in,
    new_session,
    send_and_wait,
    sign_in,
    sign_up,
    unique_email,
)

IDLE_SECONDS = 30
TURNS = 10
RELOAD_SECONDS = 120


def signed_up(browser: Browser, app: DevApp, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_up(page, app, unique_email(name))
    return page


def test_main_flow_on_two_ports(browser: Browser, dev_app: DevApp, tmp_path: Path) -> None:
    posts: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    email = unique_email("dev")
    # The form posts to the backend's port; its cookie and redirect bring the page back.
    sign_up(page, dev_app, email)
    assert f"{dev_app.backend}/auth/signup" in posts
    assert page.url.startswith(dev_app.url)
    session_id = new_session(page)

    send_and_wait(page, "write notes.txt\nwritten in development mode")
    expect(page.get_by_text(re.compile(r"Wrote notes\.txt \(\d+ bytes\)"))).to_be_visible()
    send_and_wait(page, "run cat notes.txt")
    expect(page.get_by_role("code").filter(has_text="written in development mode")).to_be_visible()

    # Download and upload are HTTP routes on the backend too, both behind the session cookie.
    page.get_by_role("button", name="Show the workspace files").click()
    page.get_by_label("Preview notes.txt").click()
    expect(page.get_by_test_id("file-preview")).to_contain_text("written", timeout=TIMEOUT)
    with page.expect_download(timeout=TIMEOUT) as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.url == f"{dev_app.backend}/files/{session_id}/notes.txt"
    assert Path(download.value.path()).read_text() == "written in development mode"
    upload = tmp_path / "uploaded.txt"
    upload.write_text("sent over /_upload\n")
    page.locator(f"#{UPLOAD_ID} input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Upload the chosen files").click()
    expect(page.get_by_test_id("file-notice")).to_contain_text(
        "Uploaded uploaded.txt", timeout=TIMEOUT
    )
    stored = (dev_app.data_dir / "workspaces").rglob("uploaded.txt")
    assert [p.read_text() for p in stored] == ["sent over /_upload\n"]

    page.reload()
    expect(page.get_by_text(re.compile(r"Wrote notes\.txt"))).to_be_visible(timeout=TIMEOUT)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{dev_app.url}/signin", timeout=TIMEOUT)
    assert f"{dev_app.backend}/auth/logout" in posts
    page.goto(f"{dev_app.url}/s/{session_id}")
    page.wait_for_url(re.compile(re.escape(f"{dev_app.url}/signin?next=")), timeout=TIMEOUT)
    sign_in(page, email)
    page.wait_for_url(f"{dev_app.url}/s/{session_id}", timeout=TIMEOUT)
    expect_signed_in(page, email)
    expect(page.get_by_text(re.compile(r"Wrote notes\.txt"))).to_be_visible(timeout=TIMEOUT)
    page.context.close()


def test_idle_then_turns_that_write_files_never_restart_the_backend(
    browser: Browser, dev_app: DevApp
) -> None:
    page = signed_up(browser, dev_app, "idle")
    session_id = new_session(page)
    workers, compiles = dev_app.backend_workers(), dev_app.compiles()
    assert workers, "no backend worker found under `reflex run`"

    # An open tab and nothing else: the database's -wal/-shm files still change.
    time.sleep(IDLE_SECONDS)
    for turn in range(TURNS):
        send_and_wait(page, f"write out/turn{turn}.txt\nturn {turn}")
    expect(page.get_by_text(f"Wrote out/turn{TURNS - 1}.txt", exact=False)).to_be_visible()

    written = list((dev_app.data_dir / "workspaces").rglob("turn*.txt"))
    assert len([p for p in written if session_id in str(p)]) == TURNS
    assert dev_app.backend_workers() == workers, "the backend was restarted"
    assert dev_app.compiles() == compiles, "the app was compiled again"
    page.context.close()


def test_an_edited_page_is_served_after_the_reload(browser: Browser, dev_app: DevApp) -> None:
    page = browser.new_page()
    page.goto(f"{dev_app.url}/signin")
    expect(page.get_by_text("Sign in to your workspace")).to_be_visible(timeout=TIMEOUT)
    workers, compiles = dev_app.backend_workers(), dev_app.compiles()

    source = dev_app.folder / "compymac_rx" / "pages" / "signin.py"
    text = source.read_text()
    source.write_text(text.replace('"Sign in to your workspace"', '"Sign in to a fresh workspace"'))
    started = time.monotonic()
    edited = page.get_by_text("Sign in to a fresh workspace")
    while not edited.is_visible():
        assert time.monotonic() - started < RELOAD_SECONDS, "the edit was not served"
        time.sleep(1)
        if not edited.is_visible():
            page.reload()
    print(f"edit served after {time.monotonic() - started:.1f} s")
    assert dev_app.backend_workers() != workers, "the backend did not reload"
    assert dev_app.compiles() > compiles
    page.close()

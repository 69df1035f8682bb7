"""A real model path in the browser: the user's key, streamed tool calls, stop, regenerate.

The app talks to the local fake provider through the real openai SDK.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from compymac_rx.state.files import UPLOAD_ID
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import (
    DOCS,
    TIMEOUT,
    conversation,
    new_session,
    send,
    sign_up,
    unique_email,
)
from tests.fake_openai import FakeOpenAI, Reply

GOOD_KEY = "sk-e2e-good-key-abcd"


def add_key(page: Page, app: RunningApp, key: str) -> None:
    page.goto(f"{app.url}/settings")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Check and save key").click()


def signed_in_with_key(browser: Browser, app: RunningApp) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_up(page, app, unique_email("model"))
    add_key(page, app, GOOD_KEY)
    expect(page.get_by_test_id("key-result")).to_contain_text("saved", timeout=TIMEOUT)
    page.goto(app.url)
    new_session(page)
    page.get_by_label("Model for this session").click()
    page.get_by_role("option", name="OpenAI: fake-small").click()
    expect(page.get_by_label("Model for this session")).to_contain_text("fake-small")
    return page


def test_keys_are_checked_and_only_a_hint_is_shown(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = browser.new_context().new_page()
    sign_up(page, app_server, unique_email("keys"))
    add_key(page, app_server, "bad-key-e2e-0000")
    result = page.get_by_test_id("key-result")
    expect(result).to_contain_text("rejected the API key", timeout=TIMEOUT)
    expect(page.get_by_test_id("saved-key")).to_have_count(0)
    add_key(page, app_server, GOOD_KEY)
    expect(result).to_contain_text(
        "Key …abcd saved: OpenAI answered with 2 models", timeout=TIMEOUT
    )
    expect(page.get_by_test_id("saved-key")).to_contain_text("…abcd")
    expect(page.get_by_label("API key")).to_have_value("")
    page.reload()
    expect(page.get_by_test_id("saved-key")).to_contain_text("…abcd", timeout=TIMEOUT)
    assert GOOD_KEY not in page.content()
    page.screenshot(path=str(DOCS / "screenshot-settings.png"))
    page.get_by_role("button", name="Delete the OpenAI key").click()
    page.get_by_role("button", name="Delete key").click()
    expect(page.get_by_test_id("saved-key")).to_have_count(0, timeout=TIMEOUT)


def test_a_turn_with_two_tool_calls_then_regenerate(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = signed_in_with_key(browser, app_server)
    fake_openai.script(
        Reply(
            text=["Let me ", "write the notes."],
            tool_calls=[
                ("write_file", {"path": "notes.md", "content": "# Notes\n"}),
                ("list_files", {}),
            ],
            chunk_delay=0.3,
        ),
        Reply(text=["All ", "done: ", "notes.md ", "is there."], chunk_delay=0.3),
    )
    page.get_by_role("button", name="Show the workspace files").click()
    panel = page.get_by_test_id("file-panel")
    expect(panel).to_contain_text("The workspace is empty.", timeout=TIMEOUT)
    send(page, "write some notes")
    cards = page.get_by_test_id("tool-card")
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    expect(cards).to_have_count(2, timeout=TIMEOUT)
    expect(cards.nth(0)).to_contain_text("write_file")
    expect(cards.nth(1)).to_contain_text("list_files")
    expect(page.get_by_text("All done: notes.md is there.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    cards.nth(1).locator("summary").click()
    expect(cards.nth(1).locator("pre")).to_contain_text("notes.md")
    # The file the model wrote is in the panel, and previews.
    expect(panel.get_by_test_id("file-row")).to_contain_text("notes.md")
    panel.get_by_label("Preview notes.md").click()
    expect(page.get_by_test_id("file-preview")).to_contain_text("# Notes", timeout=TIMEOUT)
    trace = page.get_by_test_id("trace")
    expect(trace).to_contain_text("4 steps")
    trace.locator("summary").click()
    expect(trace.locator("pre")).to_contain_text("in / 7 out tokens")
    page.screenshot(path=str(DOCS / "screenshot-model.png"))

    fake_openai.script(Reply(text=["A fresh ", "answer."], chunk_delay=0.2))
    page.get_by_role("button", name="Regenerate the last reply").click()
    expect(page.get_by_text("A fresh answer.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    expect(page.get_by_text("All done: notes.md is there.")).to_have_count(0)
    expect(conversation(page).get_by_text("write some notes")).to_have_count(1)

    fake_openai.script(Reply(text=["Edited ", "answer."], chunk_delay=0.2))
    page.get_by_role("button", name="Edit this message and send it again").click()
    page.get_by_label("Edited message").fill("write better notes")
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_text("Edited answer.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    expect(conversation(page).get_by_text("write some notes")).to_have_count(0)
    expect(page.get_by_text("A fresh answer.")).to_have_count(0)
    sent = fake_openai.chat_requests()[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["write better notes"]


def test_stop_mid_stream_and_a_revoked_key(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = signed_in_with_key(browser, app_server)
    fake_openai.script(Reply(text=[f"word{i} " for i in range(300)], chunk_delay=0.1))
    send(page, "talk for a long time")
    live = page.get_by_test_id("live-reply")
    expect(live).to_contain_text("word3", timeout=TIMEOUT)
    page.get_by_role("button", name="Stop the running turn").click()
    expect(page.get_by_test_id("job-status")).to_contain_text("stopped", timeout=TIMEOUT)
    kept = page.locator(".bubble.assistant").last
    expect(kept).to_contain_text("word3")
    expect(kept).not_to_contain_text("word299")

    fake_openai.revoked_keys.add(GOOD_KEY)
    send(page, "hello again")
    error = page.get_by_test_id("turn-error")
    expect(error).to_contain_text("rejected the API key", timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("failed")
    # The conversation is intact: both messages are still there.
    expect(conversation(page).get_by_text("talk for a long time")).to_be_visible()
    expect(conversation(page).get_by_text("hello again")).to_be_visible()


def test_file_panel_upload_preview_download_delete(
    browser: Browser, app_server: RunningApp, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_up(page, app_server, unique_email("files"))
    session_id = new_session(page)
    page.get_by_role("button", name="Show the workspace files").click()
    upload = tmp_path / "evil name?.py"
    upload.write_text("def hello():\n    return 'hi'\n")
    page.locator(f"#{UPLOAD_ID} input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Upload the chosen files").click()
    notice = page.get_by_test_id("file-notice")
    expect(notice).to_contain_text("Uploaded evil name_.py", timeout=TIMEOUT)
    page.get_by_label("Preview evil name_.py").click()
    preview = page.get_by_test_id("file-preview")
    expect(preview).to_contain_text("def hello", timeout=TIMEOUT)

    url = f"{app_server.url}/files/{session_id}/evil%20name_.py"
    response = context.request.get(url)
    assert response.status == 200
    assert response.body() == upload.read_bytes()
    assert "attachment" in response.headers["content-disposition"]
    assert context.request.get(f"{app_server.url}/files/{session_id}/../x").status == 404
    stranger = browser.new_context()
    assert stranger.request.get(url).status == 401
    other_page = stranger.new_page()
    sign_up(other_page, app_server, unique_email("stranger"))
    assert stranger.request.get(url).status == 404

    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 2_000_001)
    page.locator(f"#{UPLOAD_ID} input[type=file]").set_input_files(str(big))
    page.get_by_role("button", name="Upload the chosen files").click()
    expect(notice).to_contain_text("too big", timeout=TIMEOUT)

    page.get_by_label("Delete evil name_.py").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_test_id("file-row")).to_have_count(0, timeout=TIMEOUT)
    expect(page.get_by_text("The workspace is empty.")).to_be_visible()


def test_keys_never_reach_the_app_log(app_server: RunningApp) -> None:
    """Runs after the tests above typed GOOD_KEY and a bad key into the settings page."""
    log = (app_server.data_dir / "app.log").read_text(errors="replace")
    assert "App running" in log  # the right file; debug-level logging is covered in tests/keys
    assert GOOD_KEY not in log
    assert "bad-key-e2e-0000" not in log

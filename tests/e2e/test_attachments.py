"""Attachments in the browser: upload and attach, remove a chip, the model reads the file,
the chip stays on the message after a reload; a file gone before sending and a sixth file
are refused plainly."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from compymac_rx.state.attach import ATTACH_UPLOAD_ID
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, conversation, send
from tests.e2e.test_agent_models import signed_in_with_key
from tests.fake_openai import FakeOpenAI, Reply


def upload_and_attach(page: Page, *paths: Path) -> None:
    page.get_by_role("button", name="Attach files").click()
    dialog = page.get_by_test_id("attach-dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT)
    dialog.locator(f"#{ATTACH_UPLOAD_ID} input[type=file]").set_input_files([str(p) for p in paths])
    dialog.get_by_role("button", name="Upload the chosen files and attach them").click()


def test_an_uploaded_file_is_attached_sent_to_the_model_and_shown_on_the_message(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    page = signed_in_with_key(browser, app_server)
    notes, scratch = tmp_path / "notes.txt", tmp_path / "scratch.txt"
    notes.write_text("The launch code is PELICAN-42.\n")
    scratch.write_text("scratch text that must not be sent\n")
    upload_and_attach(page, notes, scratch)
    chips = page.get_by_test_id("composer-attachment")
    expect(chips).to_have_count(2, timeout=TIMEOUT)
    dialog = page.get_by_test_id("attach-dialog")
    expect(dialog.get_by_role("checkbox", name="Attach notes.txt")).to_be_checked()
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0, timeout=TIMEOUT)
    # A chip removed before sending is not sent.
    page.get_by_role("button", name="Remove attachment scratch.txt").click()
    expect(chips).to_have_count(1, timeout=TIMEOUT)
    expect(chips).to_contain_text("notes.txt")

    fake_openai.script(Reply(text=["The code ", "is PELICAN-42."], chunk_delay=0.1))
    send(page, "What is the launch code?")
    expect(page.get_by_text("The code is PELICAN-42.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    sent = fake_openai.last_user_text()
    assert sent.startswith("What is the launch code?")
    assert "----- begin notes.txt -----\nThe launch code is PELICAN-42.\n" in sent
    assert "scratch text" not in sent
    expect(chips).to_have_count(0)  # the composer is empty again

    on_message = conversation(page).get_by_test_id("attachment-chip")
    expect(on_message).to_have_count(1, timeout=TIMEOUT)
    expect(on_message).to_contain_text("notes.txt · 31 B")
    page.reload()
    expect(on_message).to_have_count(1, timeout=TIMEOUT)
    expect(on_message).to_contain_text("notes.txt · 31 B")


def test_a_workspace_file_chosen_then_deleted_is_refused_plainly(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    page = signed_in_with_key(browser, app_server)
    doomed = tmp_path / "doomed.md"
    doomed.write_text("# soon gone\n")
    upload_and_attach(page, doomed)
    dialog = page.get_by_test_id("attach-dialog")
    choice = dialog.get_by_role("checkbox", name="Attach doomed.md")
    expect(choice).to_be_checked(timeout=TIMEOUT)
    # Un-chosen and chosen again in the picker: the chip follows the box.
    choice.click()
    expect(page.get_by_test_id("composer-attachment")).to_have_count(0, timeout=TIMEOUT)
    choice.click()
    expect(page.get_by_test_id("composer-attachment")).to_have_count(1, timeout=TIMEOUT)
    dialog.get_by_role("button", name="Done").click()

    page.get_by_role("button", name="Show the workspace files").click()
    page.get_by_label("Delete doomed.md").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_test_id("file-row")).to_have_count(0, timeout=TIMEOUT)
    send(page, "read it")
    expect(page.get_by_role("alert")).to_contain_text(
        "doomed.md is no longer in the workspace.", timeout=TIMEOUT
    )
    expect(page.get_by_test_id("composer-attachment")).to_have_count(1)  # kept to remove
    assert fake_openai.chat_requests() == []

    # Too many: six new files, five fit in a message (ATTACHMENTS_PER_MESSAGE).
    page.get_by_role("button", name="Remove attachment doomed.md").click()
    six = [tmp_path / f"part{n}.txt" for n in range(6)]
    for path in six:
        path.write_text(f"part {path.name}\n")
    upload_and_attach(page, *six)
    expect(page.get_by_test_id("attach-dialog").get_by_role("alert")).to_contain_text(
        "Too many attachments: a message can carry at most 5 files.", timeout=TIMEOUT
    )
    expect(page.get_by_test_id("composer-attachment")).to_have_count(5)

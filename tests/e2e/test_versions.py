"""Versions of a turn in the browser: regenerate keeps the replies, "< n/m >" switches between
them, the choice survives a reload, the next turn's model request follows it, and an edit
makes a version of its own turn."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, conversation, send
from tests.e2e.test_agent_models import signed_in_with_key
from tests.fake_openai import FakeOpenAI, Reply


def test_regenerate_twice_go_back_reload_and_the_model_sees_the_choice(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = signed_in_with_key(browser, app_server)
    status = page.get_by_test_id("job-status")
    fake_openai.script(Reply(text=["Reply ", "one."], chunk_delay=0.1))
    send(page, "tell me something")
    expect(page.get_by_text("Reply one.")).to_be_visible(timeout=TIMEOUT)
    expect(status).to_contain_text("done", timeout=TIMEOUT)
    expect(page.get_by_test_id("versions")).to_have_count(0)  # one version: no switch
    for word in ("two", "three"):
        fake_openai.script(Reply(text=["Reply ", f"{word}."], chunk_delay=0.1))
        page.get_by_role("button", name="Regenerate the last reply").click()
        expect(page.get_by_text(f"Reply {word}.")).to_be_visible(timeout=TIMEOUT)
        expect(status).to_contain_text("done", timeout=TIMEOUT)
    switch = page.get_by_test_id("versions")
    label = page.get_by_test_id("version-label")
    expect(switch).to_have_text("\u20393/3\u203a")
    expect(page.get_by_role("button", name="Next version of this turn")).to_be_disabled()
    expect(page.get_by_text("Reply one.")).to_have_count(0)
    expect(conversation(page).get_by_text("tell me something")).to_have_count(1)

    previous = page.get_by_role("button", name="Previous version of this turn")
    previous.click()
    expect(label).to_have_text("2/3", timeout=TIMEOUT)
    expect(page.get_by_text("Reply two.")).to_be_visible()
    previous.click()
    expect(label).to_have_text("1/3", timeout=TIMEOUT)
    expect(page.get_by_text("Reply one.")).to_be_visible()
    expect(page.get_by_text("Reply three.")).to_have_count(0)
    expect(previous).to_be_disabled()

    page.reload()
    expect(label).to_have_text("1/3", timeout=TIMEOUT)
    expect(page.get_by_text("Reply one.")).to_be_visible()
    expect(page.get_by_text("Reply two.")).to_have_count(0)

    fake_openai.script(Reply(text=["Going ", "on."], chunk_delay=0.1))
    send(page, "and then?")
    expect(page.get_by_text("Going on.")).to_be_visible(timeout=TIMEOUT)
    expect(status).to_contain_text("done", timeout=TIMEOUT)
    sent = fake_openai.chat_requests()[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent if m["role"] != "system"] == [
        ("user", "tell me something"),
        ("assistant", "Reply one."),
        ("user", "and then?"),
    ]
    expect(label).to_have_text("1/3")

    # Edit and resend the second turn: a version of that turn, switched back to its first one.
    fake_openai.script(Reply(text=["Edited ", "reply."], chunk_delay=0.1))
    page.get_by_role("button", name="Edit this message and send it again").last.click()
    page.get_by_label("Edited message").fill("and after that?")
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_text("Edited reply.")).to_be_visible(timeout=TIMEOUT)
    expect(status).to_contain_text("done", timeout=TIMEOUT)
    expect(label).to_have_text(["1/3", "2/2"])
    expect(page.get_by_text("Going on.")).to_have_count(0)
    page.get_by_role("button", name="Previous version of this turn").last.click()
    expect(label).to_have_text(["1/3", "1/2"], timeout=TIMEOUT)
    expect(page.get_by_text("Going on.")).to_be_visible()
    expect(page.get_by_text("Edited reply.")).to_have_count(0)

"""System prompts, temperature and max tokens, and streamed reasoning and tool arguments, in
the browser against the local fake provider (through the real openai SDK)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, send, send_and_wait
from tests.e2e.test_agent_models import signed_in_with_key
from tests.fake_openai import FakeOpenAI, Reply


def is_open(page: Page, test_id: str) -> bool:
    return bool(page.get_by_test_id(test_id).last.evaluate("el => el.open"))


def test_default_prompt_session_override_temperature_and_max_tokens_reach_the_model(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = signed_in_with_key(browser, app_server)
    session_url = page.url
    page.goto(f"{app_server.url}/settings")
    prompt = page.get_by_label("Default system prompt")
    prompt.fill("x" * 8001)  # the field stops at the limit; the server checks it as well
    prompt.fill("Always answer in French.")
    page.get_by_role("button", name="Save the default prompt").click()
    expect(page.get_by_test_id("prompt-result")).to_contain_text(
        "Default system prompt saved", timeout=TIMEOUT
    )
    page.reload()
    expect(prompt).to_have_value("Always answer in French.", timeout=TIMEOUT)

    page.goto(session_url)
    send_and_wait(page, "bonjour")
    body = fake_openai.last_chat()
    assert body["messages"][0] == {"role": "system", "content": "Always answer in French."}
    assert "temperature" not in body

    page.get_by_role("button", name="Session settings").click()
    dialog = page.get_by_role("dialog")
    session_prompt = dialog.get_by_label("System prompt for this session")
    expect(session_prompt).to_have_attribute(
        "placeholder", re.compile("your default prompt \\(Always answer in French"), timeout=TIMEOUT
    )
    dialog.get_by_label("Temperature").fill("2.5")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_contain_text("Temperature is a number from 0 to 2", timeout=TIMEOUT)
    dialog.get_by_label("Temperature").fill("0.3")
    dialog.get_by_label("Max output tokens").fill("0")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_contain_text("Max output tokens is a whole number from 1 to", timeout=TIMEOUT)
    dialog.get_by_label("Max output tokens").fill("321")
    session_prompt.fill("You are a pirate.")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0, timeout=TIMEOUT)

    send_and_wait(page, "ahoy")
    body = fake_openai.last_chat()
    assert body["messages"][0] == {"role": "system", "content": "You are a pirate."}
    assert (body["temperature"], body["max_tokens"]) == (0.3, 321)
    trace = page.get_by_test_id("trace").last
    trace.locator("summary").click()
    lines = trace.locator("pre")
    expect(lines).to_contain_text("temperature 0.3 · max tokens 321")
    expect(lines).to_contain_text("system (this session's prompt) You are a pirate.")

    # The stored values come back in the dialog; the first turn's trace shows the default.
    page.reload()
    page.get_by_role("button", name="Session settings").click()
    expect(dialog.get_by_label("Temperature")).to_have_value("0.3", timeout=TIMEOUT)
    expect(dialog.get_by_label("Max output tokens")).to_have_value("321")
    expect(session_prompt).to_have_value("You are a pirate.")
    dialog.get_by_role("button", name="Cancel").click()
    first = page.get_by_test_id("trace").first
    first.locator("summary").click()
    expect(first.locator("pre")).to_contain_text("temperature default · max tokens default")
    expect(first.locator("pre")).to_contain_text("(your default prompt) Always answer in French.")


def test_reasoning_streams_in_a_collapsed_thinking_block_and_stays_after_reload(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = signed_in_with_key(browser, app_server)
    fake_openai.script(
        Reply(
            reasoning=[f"idea{i} " for i in range(15)],
            text=["The ", "answer ", "is 42."],
            chunk_delay=0.25,
        )
    )
    send(page, "think first")
    live = page.get_by_test_id("live-thinking")
    expect(live).to_be_visible(timeout=TIMEOUT)
    expect(live).to_contain_text("Thinking")
    assert not is_open(page, "live-thinking")  # collapsed until the reader opens it
    live.locator("summary").click()
    expect(live).to_contain_text("idea2", timeout=TIMEOUT)
    # Still streaming: the reasoning grows in the open block.
    expect(live).to_contain_text("idea9", timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    expect(page.get_by_text("The answer is 42.")).to_be_visible()
    expect(page.get_by_test_id("live-thinking")).to_have_count(0)
    stored = page.get_by_test_id("thinking").last
    assert not is_open(page, "thinking")
    stored.locator("summary").click()
    expect(stored).to_contain_text("idea14")

    page.reload()
    stored = page.get_by_test_id("thinking").last
    expect(stored).to_be_attached(timeout=TIMEOUT)
    assert not is_open(page, "thinking")
    stored.locator("summary").click()
    expect(stored).to_contain_text("idea0 idea1")
    expect(stored).to_contain_text("idea14")
    expect(page.get_by_text("The answer is 42.")).to_be_visible()


def test_tool_arguments_stream_into_the_live_card_before_the_tool_runs(
    browser: Browser, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = signed_in_with_key(browser, app_server)
    content = "".join(f"line {i} of the poem\n" for i in range(40))
    fake_openai.script(
        Reply(
            tool_calls=[("write_file", {"path": "poem.txt", "content": content})],
            tool_arg_pieces=10,
            chunk_delay=0.4,
        ),
        Reply(text=["Wrote ", "poem.txt."]),
    )
    send(page, "write a poem")
    card = page.get_by_test_id("tool-card").first
    expect(card).to_contain_text("writing arguments", timeout=TIMEOUT)
    args = card.locator("pre.tool-args")
    expect(args).to_contain_text("poem.txt", timeout=TIMEOUT)
    expect(args).to_contain_text("line 3 of the poem", timeout=TIMEOUT)
    # The arguments are not complete yet, and the tool has not run.
    assert "line 39 of the poem" not in args.inner_text()
    expect(card).to_contain_text("writing arguments")
    expect(page.get_by_text("Wrote poem.txt.")).to_be_visible(timeout=TIMEOUT)
    stored = page.get_by_test_id("tool-card").last
    expect(stored).to_contain_text("write_file")
    expect(stored).to_contain_text("line 39 of the poem")
    expect(stored).to_contain_text("ok")
    expect(page.locator("pre.tool-args")).to_have_count(0)

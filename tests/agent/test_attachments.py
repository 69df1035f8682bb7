"""Attachments in the context window: rendered into the user message, cut to the budget."""

from __future__ import annotations

from compymac_rx.agent.context import message_tokens, trim_to_window
from compymac_rx.agent.types import Attached, ChatItem
from compymac_rx.agent.vision import sees_images


def test_a_text_attachment_within_the_budget_is_whole() -> None:
    item = ChatItem("user", "look", attachments=(Attached("a.txt", "text/plain", 5, "hello"),))
    [_, message] = trim_to_window("sys", [item], 1000)
    assert message["content"] == (
        "look\n\n[Attached file: a.txt (5 bytes)]\n----- begin a.txt -----\nhello\n"
        "----- end a.txt -----"
    )


def test_text_attachments_over_the_budget_are_cut_in_proportion_and_say_so() -> None:
    big, small = "A" * 20_000, "B" * 4_000
    item = ChatItem(
        "user",
        "both",
        attachments=(
            Attached("big.txt", "text/plain", len(big), big),
            Attached("small.txt", "text/plain", len(small), small),
        ),
    )
    older = [ChatItem("user", "earlier"), ChatItem("assistant", "ok")]
    messages = trim_to_window("sys", [*older, item], 2000)
    content = messages[-1]["content"]
    assert sum(message_tokens(m) for m in messages) <= 2000
    assert "big.txt was TRUNCATED" in content and "small.txt was TRUNCATED" in content
    shown_big, shown_small = content.count("A"), content.count("B")
    assert 0 < shown_small < shown_big < 20_000
    assert abs(shown_big / shown_small - 5) < 0.1  # each keeps its share


def test_a_file_cut_when_read_says_so_even_within_the_budget() -> None:
    cut = Attached("log.txt", "text/plain", 900_000, "x" * 100, cut_at_read=True)
    [_, message] = trim_to_window("sys", [ChatItem("user", "", attachments=(cut,))], 10_000)
    assert "log.txt was TRUNCATED: only its first 100 characters" in message["content"]
    assert "(the file has 900,000 bytes)" in message["content"]


def test_vision_models_come_from_one_setting() -> None:
    assert sees_images("gpt-4o-mini") and sees_images("openai/gpt-4o")
    assert sees_images("Claude-3-5-Sonnet")
    assert not sees_images("gpt-3.5-turbo") and not sees_images("fake-small")

"""Search on both databases: matching, ranking, snippets, the archived filter, isolation."""

from __future__ import annotations

import pytest

from compymac_rx.chats import repository
from compymac_rx.chats import service as chats
from compymac_rx.db import session_scope, utcnow
from compymac_rx.search import service as search
from tests.factories import make_user


def conversation(user_id: str, title: str, *texts: str, role: str = "user") -> str:
    """A session titled `title` holding `texts` as alternating user/assistant messages."""
    session_id = chats.create_session(user_id).id
    chats.rename_session(user_id, session_id, title)
    roles = ["user", "assistant"]
    with session_scope() as db:
        repository.append_messages(
            db,
            user_id=user_id,
            session_id=session_id,
            messages=[
                repository.NewMessage(role if role != "user" else roles[n % 2], text)
                for n, text in enumerate(texts)
            ],
            now=utcnow(),
        )
    return session_id


def test_finds_by_message_and_title_with_the_hit_position() -> None:
    alice = make_user()
    by_text = conversation(alice.id, "Weekend plans", "hello", "the kubernetes cluster is down")
    by_title = conversation(alice.id, "Kubernetes upgrade notes", "nothing to see")
    conversation(alice.id, "Unrelated", "bread recipes")

    hits = search.search(alice.id, "kubernetes")

    assert [hit.session_id for hit in hits] == [by_title, by_text]
    title_hit, text_hit = hits
    assert title_hit.seq is None and title_hit.snippet.text == "Kubernetes upgrade notes"
    assert text_hit.seq == 2 and text_hit.title == "Weekend plans"
    start, end = text_hit.snippet.highlights[0]
    assert text_hit.snippet.text[start:end] == "kubernetes"


def test_every_word_is_required_and_matched_as_a_prefix() -> None:
    alice = make_user()
    both = conversation(alice.id, "a", "deploying the payments service")
    conversation(alice.id, "b", "deploying the search service")
    assert [h.session_id for h in search.search(alice.id, "deploy paym")] == [both]
    assert search.search(alice.id, "deploy nothinglikethis") == []
    # Punctuation and FTS syntax are just separators, never operators.
    assert [h.session_id for h in search.search(alice.id, 'paym* OR "x" (NEAR')] == []
    assert [h.session_id for h in search.search(alice.id, "paym*; deploy")] == [both]
    assert search.search(alice.id, "  ,;  ") == []


def test_more_matches_in_a_shorter_message_rank_first() -> None:
    alice = make_user()
    weak = conversation(
        alice.id,
        "weak",
        "one mention of zebra among many other words about fences, gardens, paint and weather",
    )
    strong = conversation(alice.id, "strong", "zebra zebra zebra")
    assert [h.session_id for h in search.search(alice.id, "zebra")] == [strong, weak]


def test_one_result_per_session_with_its_best_message() -> None:
    alice = make_user()
    session_id = conversation(
        alice.id, "t", "quokka once in a long sentence about many things", "quokka quokka"
    )
    [hit] = search.search(alice.id, "quokka")
    assert hit.session_id == session_id and hit.seq == 2


def test_tool_output_is_not_indexed_but_edits_are() -> None:
    alice = make_user()
    session_id = conversation(alice.id, "t", "secret tool output walrus", role="tool")
    assert search.search(alice.id, "walrus") == []
    conversation(alice.id, "u", "first words")
    with session_scope() as db:
        row = repository.last_user_message(db, user_id=alice.id, session_id=session_id)
        assert row is None  # only tool rows there
    other = conversation(alice.id, "v", "narwhal question")
    assert [h.session_id for h in search.search(alice.id, "narwhal")] == [other]
    # An edited message (resend) is found by its new text only.
    with session_scope() as db:
        row = repository.last_user_message(db, user_id=alice.id, session_id=other)
        assert row is not None
        row.content = "beluga question"
        db.add(row)
    assert search.search(alice.id, "narwhal") == []
    assert [h.session_id for h in search.search(alice.id, "beluga")] == [other]


def test_archived_only_on_request() -> None:
    alice = make_user()
    archived = conversation(alice.id, "old", "the platypus file")
    chats.set_archived(alice.id, archived, True)
    assert search.search(alice.id, "platypus") == []
    [hit] = search.search(alice.id, "platypus", include_archived=True)
    assert hit.session_id == archived and hit.archived


def test_renamed_and_deleted_sessions_follow() -> None:
    alice = make_user()
    session_id = conversation(alice.id, "Lemur research", "tree notes")
    chats.rename_session(alice.id, session_id, "Gibbon research")
    assert search.search(alice.id, "lemur") == []
    assert [h.session_id for h in search.search(alice.id, "gibbon")] == [session_id]
    chats.delete_session(alice.id, session_id)
    assert search.search(alice.id, "gibbon") == []
    assert search.search(alice.id, "tree") == []


def test_other_users_content_never_appears() -> None:
    alice, bob = make_user(), make_user()
    conversation(alice.id, "Alice's armadillo", "alice's armadillo secret")
    mine = conversation(bob.id, "bob", "my own armadillo")
    assert [h.session_id for h in search.search(bob.id, "armadillo")] == [mine]
    assert [h.session_id for h in search.search(bob.id, "armadillo", include_archived=True)] == [
        mine
    ]
    assert search.search(bob.id, "secret") == []
    assert search.search(make_user().id, "armadillo") == []
    # The control: the words bob cannot find are in the index, for their owner.
    assert len(search.search(alice.id, "secret")) == 1


def test_snippet_is_plain_text_around_the_match() -> None:
    alice = make_user()
    long_text = "<b>filler</b> " * 40 + "the <script>ocelot</script> appears\nhere " + "tail " * 60
    conversation(alice.id, "t", long_text)
    [hit] = search.search(alice.id, "ocelot")
    text = hit.snippet.text
    assert text.startswith("…") and text.endswith("…") and "\n" not in text
    assert "<script>ocelot</script>" in text  # text, shown as text by the UI
    assert [text[a:b] for a, b in hit.snippet.highlights] == ["ocelot"]
    assert len(text) <= 202


@pytest.mark.parametrize("limit", [1, 3])
def test_limit(limit: int) -> None:
    alice = make_user()
    for n in range(4):
        conversation(alice.id, f"s{n}", "capybara")
    assert len(search.search(alice.id, "capybara", limit=limit)) == limit


def test_only_the_newest_window_of_matches_is_ranked(monkeypatch: pytest.MonkeyPatch) -> None:
    from compymac_rx.search import index

    monkeypatch.setattr(index, "WINDOW", 2)
    alice = make_user()
    oldest = conversation(alice.id, "a", "tapir tapir tapir tapir")  # the best match...
    newer = [conversation(alice.id, f"b{n}", "one tapir in a longer sentence here") for n in (1, 2)]
    # ...but beyond the two newest matches: a very common word costs no more than a rare one.
    assert {h.session_id for h in search.search(alice.id, "tapir")} == set(newer)
    assert oldest not in {h.session_id for h in search.search(alice.id, "tapir")}

"""Turn versions: regenerate and edit keep the old branch; the chosen path is what the page
shows, what the model receives, what is exported and what search finds."""

from __future__ import annotations

import pytest

from compymac_rx.chats import service as chats
from compymac_rx.chats import versions
from compymac_rx.chats.versions import Node
from compymac_rx.db import session_scope, utcnow
from compymac_rx.exports import service as exports
from compymac_rx.jobs import repository as jobs
from compymac_rx.keys import service as keys
from compymac_rx.search import service as search
from compymac_rx.state.views import message_view
from tests.conftest import clear_caches
from tests.factories import make_user, wait_for_job
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.both_databases  # the search filter is raw SQL on each

KEY = "sk-versions-test-key-1234"


@pytest.fixture(autouse=True)
def providers_point_at_the_fake(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_OPENAI_URL", fake_openai.url)
    monkeypatch.setenv("MODEL_MAX_RETRIES", "0")
    clear_caches()


def model_session(user_id: str) -> str:
    keys.save_key(user_id, "openai", KEY)
    session_id = chats.create_session(user_id).id
    chats.set_session_model(user_id, session_id, "openai:fake-small")
    return session_id


def shown(user_id: str, session_id: str) -> list[str]:
    return [m.content for m in chats.load_messages(user_id, session_id) if m.role != "trace"]


def labels(user_id: str, session_id: str) -> dict[str, str]:
    """Each user message shown with its "n/m" label ("" for a turn with one version)."""
    views = [message_view(m) for m in chats.load_messages(user_id, session_id)]
    return {v.content: v.version for v in views if v.role == "user"}


def user_id_of(user_id: str, session_id: str, content: str) -> int:
    return next(
        m.id
        for m in chats.load_messages(user_id, session_id)
        if m.role == "user" and m.content == content
    )


def sent_to_model(fake: FakeOpenAI) -> list[tuple[str, str]]:
    """The conversation of the last request the fake provider got (system prompt left out)."""
    body = fake.chat_requests()[-1].body
    return [(m["role"], m["content"]) for m in body["messages"] if m["role"] != "system"]


def test_the_chosen_path_follows_chosen_siblings_in_seq_order() -> None:
    # q1 a1 | q2 a2 | q3 (child of q2) | q2' (sibling of q2, chosen) b2
    nodes = [
        Node(1, "user", None, True, False),
        Node(2, "assistant", None, True, False),
        Node(3, "user", 1, False, False),
        Node(4, "assistant", None, True, False),
        Node(5, "user", 3, True, False),
        Node(6, "user", 1, True, False),
        Node(7, "assistant", None, True, False),
    ]
    assert versions.visible_ids(nodes) == {1, 2, 6, 7}
    nodes[2], nodes[5] = Node(3, "user", 1, True, True), Node(6, "user", 1, False, False)
    assert versions.visible_ids(nodes) == {1, 2, 3, 4, 5}


def test_regenerate_keeps_the_old_reply_as_version_1_of_2(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    session_id = model_session(user.id)
    fake_openai.script(Reply(text=["first"]), Reply(text=["second"]), Reply(text=["next one"]))
    wait_for_job(user.id, chats.send_message(user.id, session_id, "question"))
    job = wait_for_job(user.id, chats.resend_from(user.id, session_id, None, None))
    assert job.status == "done", job.error
    assert shown(user.id, session_id) == ["question", "second"]
    assert labels(user.id, session_id) == {"question": "2/2"}
    # The regenerated turn was asked without the first reply.
    assert sent_to_model(fake_openai) == [("user", "question")]

    [old, new] = chats.load_messages(user.id, session_id)[0].versions
    chats.choose_version(user.id, session_id, old)
    assert shown(user.id, session_id) == ["question", "first"]
    assert labels(user.id, session_id) == {"question": "1/2"}
    view = message_view(chats.load_messages(user.id, session_id)[0])
    assert (view.prev_id, view.next_id) == (0, new)

    wait_for_job(user.id, chats.send_message(user.id, session_id, "and then?"))
    assert sent_to_model(fake_openai) == [
        ("user", "question"),
        ("assistant", "first"),
        ("user", "and then?"),
    ]


def test_edit_makes_a_new_version_and_later_turns_are_kept_on_their_branch(
    fake_openai: FakeOpenAI,
) -> None:
    user = make_user()
    session_id = model_session(user.id)
    fake_openai.script(*(Reply(text=[f"a{n}"]) for n in range(1, 7)))
    for text in ("q1", "q2", "q3"):
        wait_for_job(user.id, chats.send_message(user.id, session_id, text))
    q2 = user_id_of(user.id, session_id, "q2")
    wait_for_job(user.id, chats.resend_from(user.id, session_id, q2, "q2 edited"))
    assert shown(user.id, session_id) == ["q1", "a1", "q2 edited", "a4"]
    assert labels(user.id, session_id) == {"q1": "", "q2 edited": "2/2"}
    assert sent_to_model(fake_openai) == [
        ("user", "q1"),
        ("assistant", "a1"),
        ("user", "q2 edited"),
    ]

    # Back to the first version: the turn after it comes back with it.
    chats.choose_version(user.id, session_id, q2)
    assert shown(user.id, session_id) == ["q1", "a1", "q2", "a2", "q3", "a3"]
    # A version of the third turn, then a trip to the other branch and back: still chosen.
    wait_for_job(user.id, chats.resend_from(user.id, session_id, None, None))
    assert shown(user.id, session_id) == ["q1", "a1", "q2", "a2", "q3", "a5"]
    [first, edited] = versions_of(user.id, session_id, "q2")
    chats.choose_version(user.id, session_id, edited)
    assert shown(user.id, session_id) == ["q1", "a1", "q2 edited", "a4"]
    chats.choose_version(user.id, session_id, first)
    assert shown(user.id, session_id) == ["q1", "a1", "q2", "a2", "q3", "a5"]
    assert labels(user.id, session_id) == {"q1": "", "q2": "1/2", "q3": "2/2"}

    wait_for_job(user.id, chats.send_message(user.id, session_id, "q4"))
    assert [text for role, text in sent_to_model(fake_openai) if role == "assistant"] == [
        "a1",
        "a2",
        "a5",
    ]


def versions_of(user_id: str, session_id: str, content: str) -> tuple[int, ...]:
    return next(
        m.versions
        for m in chats.load_messages(user_id, session_id)
        if m.role == "user" and m.content == content
    )


def test_export_and_search_follow_the_chosen_path(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    session_id = model_session(user.id)
    fake_openai.script(Reply(text=["zebra answer"]), Reply(text=["okapi answer"]))
    wait_for_job(user.id, chats.send_message(user.id, session_id, "animals please"))
    wait_for_job(user.id, chats.resend_from(user.id, session_id, None, None))
    exported = [m.content for m in exports.export_session(user.id, session_id).messages]
    assert [c for c in exported if "answer" in c or "animals" in c] == [
        "animals please",
        "okapi answer",
    ]
    assert [h.session_id for h in search.search(user.id, "okapi")] == [session_id]
    assert search.search(user.id, "zebra") == []  # a hidden version is not found
    [old, _new] = versions_of(user.id, session_id, "animals please")
    chats.choose_version(user.id, session_id, old)
    [hit] = search.search(user.id, "zebra")
    assert hit.seq is not None and hit.session_id == session_id
    assert search.search(user.id, "okapi") == []
    exported = [m.content for m in exports.export_session(user.id, session_id).messages]
    assert "zebra answer" in exported and "okapi answer" not in exported


def test_another_user_can_neither_switch_nor_resend_and_their_sessions_stay(
    fake_openai: FakeOpenAI,
) -> None:
    alice, bob = make_user(), make_user()
    mine, theirs = model_session(alice.id), model_session(bob.id)
    fake_openai.script(*(Reply(text=[f"r{n}"]) for n in range(4)))
    wait_for_job(bob.id, chats.send_message(bob.id, theirs, "bob asks"))
    wait_for_job(alice.id, chats.send_message(alice.id, mine, "alice asks"))
    wait_for_job(alice.id, chats.resend_from(alice.id, mine, None, None))
    [old, new] = versions_of(alice.id, mine, "alice asks")
    with pytest.raises(chats.NotFound):
        chats.choose_version(bob.id, mine, old)
    with pytest.raises(chats.NotFound):
        chats.resend_from(bob.id, mine, new, "hijack")
    # Bob naming Alice's message in his own session reaches nothing either.
    with pytest.raises(chats.ChatError, match="gone"):
        chats.choose_version(bob.id, theirs, old)
    assert shown(alice.id, mine) == ["alice asks", "r2"]
    assert versions_of(alice.id, mine, "alice asks") == (old, new)
    assert shown(bob.id, theirs) == ["bob asks", "r0"]
    # The control: Alice's own switch does act.
    chats.choose_version(alice.id, mine, old)
    assert shown(alice.id, mine) == ["alice asks", "r1"]
    assert shown(bob.id, theirs) == ["bob asks", "r0"]


def test_no_switch_while_a_turn_runs(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    session_id = model_session(user.id)
    fake_openai.script(Reply(text=["one"]), Reply(text=["two"]))
    wait_for_job(user.id, chats.send_message(user.id, session_id, "hello"))
    wait_for_job(user.id, chats.resend_from(user.id, session_id, None, None))
    [old, _new] = versions_of(user.id, session_id, "hello")
    with session_scope() as db:  # a queued turn, as a send leaves it
        jobs.insert_job(db, user_id=user.id, session_id=session_id, now=utcnow())
    with pytest.raises(chats.ChatError, match="still working"):
        chats.choose_version(user.id, session_id, old)
    assert shown(user.id, session_id) == ["hello", "two"]

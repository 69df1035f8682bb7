"""Whole turns through the job runner with a user's key against the fake provider."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from compymac_rx.chats import service as chats
from compymac_rx.keys import choice as model_choice
from compymac_rx.keys import service as keys
from tests.conftest import clear_caches
from tests.factories import make_user, wait_for_job
from tests.fake_openai import FakeOpenAI, Reply

PLANTED = "sk-PLANTED-job-key-7a7a"


@pytest.fixture(autouse=True)
def providers_point_at_the_fake(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_OPENAI_URL", fake_openai.url)
    monkeypatch.setenv("MODEL_MAX_RETRIES", "0")
    clear_caches()


def roles(user_id: str, session_id: str) -> list[str]:
    return [m.role for m in chats.load_messages(user_id, session_id)]


def test_a_turn_uses_the_users_key_and_stores_a_trace(
    fake_openai: FakeOpenAI, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")
    fake_openai.script(
        Reply(tool_calls=[("write_file", {"path": "a.txt", "content": "A"})]),
        Reply(text=["Wrote ", "a.txt."], prompt_tokens=99, completion_tokens=3),
    )
    job = wait_for_job(user.id, chats.send_message(user.id, session.id, "write a.txt"))
    assert job.status == "done", job.error
    assert roles(user.id, session.id) == ["user", "tool", "assistant", "trace"]
    trace = chats.load_messages(user.id, session.id)[-1].meta
    kinds = [(s["kind"], s["name"]) for s in trace["steps"]]
    assert kinds == [
        ("model", "openai:fake-small"),
        ("tool", "write_file"),
        ("model", "openai:fake-small"),
    ]
    assert trace["steps"][2]["prompt_tokens"] == 99
    [request, _] = fake_openai.chat_requests()
    assert request.authorization == f"Bearer {PLANTED}"
    assert request.body["model"] == "fake-small"
    workspace = data_dir / "workspaces" / user.id / session.id
    assert (workspace / "a.txt").read_text() == "A"
    assert PLANTED not in caplog.text


def test_a_provider_error_is_shown_and_the_conversation_stays(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")
    fake_openai.script(Reply(error="rate_limit"))
    job = wait_for_job(user.id, chats.send_message(user.id, session.id, "hello"))
    assert job.status == "failed"
    assert job.error is not None and "rate-limiting" in job.error
    messages = chats.load_messages(user.id, session.id)
    assert [(m.role, m.content) for m in messages][:2] == [("user", "hello"), ("error", job.error)]
    assert messages[2].role == "trace" and messages[2].meta["steps"][0]["kind"] == "model"
    # The next turn goes on from the same conversation.
    job = wait_for_job(user.id, chats.send_message(user.id, session.id, "again"))
    assert job.status == "done"
    sent = fake_openai.chat_requests()[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["hello", "again"]


def test_a_revoked_key_gives_a_clear_error(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")
    fake_openai.revoked_keys.add(PLANTED)
    job = wait_for_job(user.id, chats.send_message(user.id, session.id, "hello"))
    assert job.status == "failed"
    assert job.error == "The model provider rejected the API key. Check or replace it in Settings."


def test_no_key_refuses_unless_the_operator_allows_the_server_fallback(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")
    job = wait_for_job(user.id, chats.send_message(user.id, session.id, "hi"))
    assert job.error is not None and job.error.startswith("No OpenAI API key saved")
    assert fake_openai.chat_requests() == []
    monkeypatch.setenv("MODEL_BACKEND", "openai")
    monkeypatch.setenv("MODEL_BASE_URL", fake_openai.url)
    monkeypatch.setenv("MODEL_API_KEY", "sk-server-key")
    monkeypatch.setenv("MODEL_NAME", "fake-large")
    monkeypatch.setenv("MODEL_SERVER_FALLBACK", "true")
    clear_caches()
    job = wait_for_job(user.id, chats.send_message(user.id, session.id, "hi"))
    assert job.status == "done"
    [request] = fake_openai.chat_requests()
    assert request.authorization == "Bearer sk-server-key"
    assert request.body["model"] == "fake-large"


def test_choices_and_defaults(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    user = make_user()
    assert model_choice.resolve_choice(user.id, "") == "builtin"
    keys.save_key(user.id, "openai", PLANTED)
    values = [value for value, _ in model_choice.model_choices(user.id)]
    assert values == ["builtin", "openai:fake-large", "openai:fake-small"]
    keys.set_default_model(user.id, "openai:fake-large")
    assert model_choice.resolve_choice(user.id, "") == "openai:fake-large"
    assert model_choice.resolve_choice(user.id, "builtin") == "builtin"
    monkeypatch.setenv("MODEL_BACKEND", "openai")
    clear_caches()
    keys.set_default_model(user.id, "")
    assert model_choice.resolve_choice(user.id, "") == "server"


def test_regenerate_and_edit_replace_the_tail(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")
    fake_openai.script(Reply(text=["first"]), Reply(text=["second"]), Reply(text=["third"]))
    wait_for_job(user.id, chats.send_message(user.id, session.id, "question"))
    wait_for_job(user.id, chats.resend_from(user.id, session.id, None, None))
    contents = [m.content for m in chats.load_messages(user.id, session.id) if m.role != "trace"]
    assert contents == ["question", "second"]
    first = chats.load_messages(user.id, session.id)[0]
    wait_for_job(user.id, chats.resend_from(user.id, session.id, first.id, "better question"))
    contents = [m.content for m in chats.load_messages(user.id, session.id) if m.role != "trace"]
    assert contents == ["better question", "third"]
    other = make_user()
    with pytest.raises(chats.NotFound):
        chats.resend_from(other.id, session.id, first.id, "hijack")


def test_stop_ends_a_turn_whose_provider_stalls(fake_openai: FakeOpenAI) -> None:
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    session = chats.create_session(user.id)
    chats.set_session_model(user.id, session.id, "openai:fake-small")
    fake_openai.script(Reply(text=["never"], chunk_delay=8))
    job_id = chats.send_message(user.id, session.id, "hello")
    deadline = time.monotonic() + 5
    while not fake_openai.chat_requests() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert chats.stop_turn(user.id, session.id)
    stopped = time.monotonic()
    job = wait_for_job(user.id, job_id, timeout=5)
    assert job.status == "cancelled"
    assert time.monotonic() - stopped < 3
    roles = [m.role for m in chats.load_messages(user.id, session.id)]
    assert roles[:1] == ["user"] and "assistant" not in roles


def test_a_turn_sends_the_sessions_params_and_the_users_default_prompt(
    fake_openai: FakeOpenAI,
) -> None:
    user = make_user()
    keys.save_key(user.id, "openai", PLANTED)
    keys.set_system_prompt(user.id, "  Always answer in French.  ")
    tuned, plain = chats.create_session(user.id), chats.create_session(user.id)
    for session in (tuned, plain):
        chats.set_session_model(user.id, session.id, "openai:fake-small")
    chats.set_session_params(
        user.id,
        tuned.id,
        system_prompt="You are a pirate.",
        temperature="0.25",
        max_tokens="300",
    )
    fake_openai.script(Reply(reasoning=["Arr, ", "think."], text=["Ahoy."]))
    job = wait_for_job(user.id, chats.send_message(user.id, tuned.id, "hi"))
    assert job.status == "done", job.error
    body = fake_openai.last_chat()
    assert body["messages"][0] == {"role": "system", "content": "You are a pirate."}
    assert (body["temperature"], body["max_tokens"]) == (0.25, 300)
    reply, trace = chats.load_messages(user.id, tuned.id)[-2:]
    assert (reply.content, reply.meta) == ("Ahoy.", {"reasoning": "Arr, think."})
    assert trace.meta["params"]["temperature"] == 0.25

    job = wait_for_job(user.id, chats.send_message(user.id, plain.id, "hi"))
    assert job.status == "done", job.error
    body = fake_openai.last_chat()
    assert body["messages"][0] == {"role": "system", "content": "Always answer in French."}
    assert "temperature" not in body
    assert body["max_tokens"] == 4096  # MODEL_MAX_OUTPUT_TOKENS


def test_bad_params_are_refused_and_another_users_session_is_not_found() -> None:
    user, stranger = make_user(), make_user()
    session = chats.create_session(user.id)
    with pytest.raises(chats.ChatError, match="Temperature is a number from 0 to 2"):
        chats.set_session_params(
            user.id, session.id, system_prompt="", temperature="3", max_tokens=""
        )
    with pytest.raises(chats.ChatError, match="from 1 to 16384"):
        chats.set_session_params(
            user.id, session.id, system_prompt="", temperature="", max_tokens="999999"
        )
    with pytest.raises(chats.NotFound):
        chats.set_session_params(
            stranger.id, session.id, system_prompt="x", temperature="", max_tokens=""
        )
    assert chats.get_session_params(user.id, session.id) == chats.SessionParams("", None, None)

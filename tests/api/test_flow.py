"""The API end to end over HTTP: a whole session's life, SSE resume, problems, rate limits."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from compymac_rx.jobs.bus import get_bus
from tests.api.conftest import client, make_token
from tests.conftest import clear_caches
from tests.factories import make_user


@pytest.fixture
def api(api_url: str) -> Iterator[httpx.Client]:
    with client(api_url, make_token(make_user().id)) as c:
        yield c


def events(
    response: httpx.Response, limit: int | None = None
) -> Iterator[tuple[str | None, str, dict]]:
    """(id, event, data) of each SSE event, as they arrive."""
    fields: dict[str, str] = {}
    count = 0
    for line in response.iter_lines():
        if line == "":
            if "data" in fields:
                yield fields.get("id"), fields.get("event", "message"), json.loads(fields["data"])
                count += 1
                if limit is not None and count >= limit:
                    return
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def test_a_session_through_the_api(api: httpx.Client) -> None:
    session = api.post("/sessions").json()
    sid = session["id"]
    sent = api.post(f"/sessions/{sid}/messages", json={"text": "write hello.txt\nhi there"})
    assert sent.status_code == 202 and sent.json()["message"]["content"].startswith("write")
    job_id = sent.json()["job"]["id"]
    with api.stream("GET", f"/jobs/{job_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kinds = [kind for _, kind, _ in events(stream)]
    assert kinds[0] == "status" and "tool_end" in kinds and kinds[-1] == "status"
    assert api.get(f"/jobs/{job_id}").json()["status"] == "done"

    page = api.get(f"/sessions/{sid}/messages").json()
    assert [m["role"] for m in page["messages"]] == ["user", "tool", "assistant"]
    assert page["has_older"] is False
    assert api.get(f"/sessions/{sid}/files").json()[0]["path"] == "hello.txt"
    assert api.get(f"/sessions/{sid}/files/hello.txt").content == b"hi there"
    up = api.post(f"/sessions/{sid}/files", files={"file": ("../up load.txt", b"data")})
    assert up.status_code == 201 and up.json()["path"] == "up load.txt"

    renamed = api.patch(f"/sessions/{sid}", json={"title": "Greeting", "archived": True}).json()
    assert renamed["title"] == "Greeting" and renamed["archived"] is True
    assert api.get("/sessions").json() == []
    assert [s["id"] for s in api.get("/sessions", params={"archived": True}).json()] == [sid]
    assert api.get("/search", params={"q": "greet"}).json() == []
    [hit] = api.get("/search", params={"q": "greet", "archived": True}).json()
    assert hit["session_id"] == sid and hit["snippet"] == "Greeting"
    assert hit["highlights"] == [{"start": 0, "end": 8}]

    md = api.get(f"/sessions/{sid}/export", params={"format": "markdown"})
    assert md.status_code == 200 and md.text.startswith("# Greeting")
    exported = api.get(f"/sessions/{sid}/export")
    zipped = api.get("/export")
    assert f"workspaces/{sid}/hello.txt" in zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    imported = api.post("/import", files={"file": ("s.json", exported.content)})
    assert imported.status_code == 201
    [copy] = imported.json()["session_ids"]
    assert [m["content"] for m in api.get(f"/sessions/{copy}/messages").json()["messages"]] == [
        m["content"] for m in page["messages"]
    ]
    bad = api.post("/import", files={"file": ("x.json", b"{}")})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert "none of the formats" in bad.json()["detail"]

    assert api.post(f"/sessions/{sid}/stop").json() == {"stopped": False}
    assert api.delete(f"/sessions/{sid}").status_code == 204
    gone = api.get(f"/sessions/{sid}")
    assert gone.status_code == 404
    assert gone.json() == {
        "type": "https://compymac.dev/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No such resource, or it is not yours.",
        "instance": f"/api/v1/sessions/{sid}",
    }


def test_invalid_input_is_a_problem_with_the_fields(api: httpx.Client) -> None:
    sid = api.post("/sessions").json()["id"]
    got = api.post(f"/sessions/{sid}/messages", json={"txt": "x"})
    assert got.status_code == 422 and got.headers["content-type"] == "application/problem+json"
    assert got.json()["errors"][0]["loc"] == ["body", "text"]
    conflict = api.patch(f"/sessions/{sid}", json={"title": "   "})
    assert conflict.status_code == 409 and "cannot be empty" in conflict.json()["detail"]


def test_the_same_rate_limit_as_the_ui(api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "1")
    clear_caches()
    with client(api_url, make_token(make_user().id)) as api:
        sid = api.post("/sessions").json()["id"]
        other = api.post("/sessions").json()["id"]
        assert api.post(f"/sessions/{sid}/messages", json={"text": "help"}).status_code == 202
        limited = api.post(f"/sessions/{other}/messages", json={"text": "help"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "too fast" in limited.json()["detail"]


def test_sse_resumes_with_last_event_id_exactly_once(
    api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow stream, so the first connection drops while the turn is still running.
    monkeypatch.setenv("BUILTIN_STREAM_DELAY_MS", "40")
    clear_caches()
    with client(api_url, make_token(make_user().id)) as api:
        sid = api.post("/sessions").json()["id"]
        job_id = api.post(f"/sessions/{sid}/messages", json={"text": "help"}).json()["job"]["id"]
        with api.stream("GET", f"/jobs/{job_id}/events") as first:
            before = list(events(first, limit=4))
        assert api.get(f"/jobs/{job_id}").json()["status"] == "running"  # dropped mid-turn
        last_id = before[-1][0]
        assert last_id is not None
        headers = {"Last-Event-ID": last_id}
        with api.stream("GET", f"/jobs/{job_id}/events", headers=headers) as second:
            after = list(events(second))
    seqs = [int(i) for i, _, _ in before + after if i is not None]
    kept = [e.seq for e in get_bus().replay(job_id, after_seq=-1)]
    assert seqs == kept == list(range(len(kept)))  # every event, once, in order
    assert after[-1][1] == "status" and after[-1][2]["status"] == "done"
    assert len([k for _, k, _ in before + after if k == "delta"]) >= 3

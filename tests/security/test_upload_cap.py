"""`/_upload`: refused before the body is read without a session, capped while it streams.

Two levels: the guard around a Starlette route that parses the form the way Reflex's does
(to see exactly what reached it), and raw HTTP against the running production app.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from compymac_rx.accounts import service as accounts
from compymac_rx.http.upload_guard import FORM_OVERHEAD_BYTES, UploadGuard
from compymac_rx.identity.http import session_cookie_name
from compymac_rx.settings import get_settings
from compymac_rx.state.files import FilesState
from tests.conftest import clear_caches
from tests.e2e.conftest import RunningApp
from tests.factories import signed_in_token
from tests.security.raw import read_response, request_head_only, sign_up_cookie, status_of

ORIGIN = "http://localhost:3000"
LIMIT = 1000
CAP = LIMIT + FORM_OVERHEAD_BYTES


class Downstream:
    """Stands in for Reflex's upload route: parses the multipart form, like Reflex does."""

    def __init__(self) -> None:
        self.calls = 0
        self.disconnected = False
        self.files: list[int] = []
        self.receive_calls = 0

    async def route(self, request: Request) -> Response:
        self.calls += 1
        try:
            form = await request.form()
        except ClientDisconnect:
            self.disconnected = True
            return Response()  # what Reflex answers a disconnect with
        for part in form.getlist("files"):
            assert not isinstance(part, str)
            self.files.append(len(await part.read()))
        return PlainTextResponse("stored")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/_upload", self.route, methods=["POST"])])


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOAD_MAX_BYTES", str(LIMIT))
    clear_caches()


def guarded(downstream: Downstream) -> tuple[UploadGuard, list[int]]:
    """The guard over the downstream app, counting every receive() the guard passes on."""
    inner = downstream.app()
    reads: list[int] = []

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            if scope["type"] == "http":  # not the client's lifespan messages
                reads.append(1)
            return await receive()

        await inner(scope, counted, send)

    return UploadGuard(counting, settings=get_settings(), allowed=[ORIGIN]), reads


def client(app: UploadGuard, token: str | None = None) -> TestClient:
    # Sync clients: this folder also drives sync Playwright, whose loop owns the main thread.
    cookies = {session_cookie_name(): token} if token else None
    return TestClient(app, base_url=ORIGIN, cookies=cookies)


def multipart(size: int) -> dict[str, tuple[str, bytes]]:
    return {"files": ("a.txt", b"x" * size)}


@pytest.mark.usefixtures("small_cap")
def test_without_a_session_nothing_is_read() -> None:
    downstream = Downstream()
    app, reads = guarded(downstream)
    with client(app) as anonymous:
        response = anonymous.post("/_upload", files=multipart(10))
        # Reflex's folder of uploaded files behind the same path is guarded too.
        assert anonymous.get("/_upload/some-file.txt").status_code == 401
    assert response.status_code == 401
    assert downstream.calls == 0 and reads == []
    with client(app, token="not-a-real-session") as forged:
        assert (forged.post("/_upload", files=multipart(10))).status_code == 401
    assert downstream.calls == 0 and reads == []
    # Positive control: a real session through the same guard reaches the route.
    with client(app, signed_in_token()[1]) as signed_in:
        assert (
            signed_in.post("/_upload", files=multipart(10), headers={"Origin": ORIGIN}).status_code
            == 200
        )
    assert downstream.files == [10] and reads


@pytest.mark.usefixtures("small_cap")
def test_a_foreign_origin_is_refused_even_signed_in() -> None:
    _, token = signed_in_token()
    downstream = Downstream()
    app, reads = guarded(downstream)
    with client(app, token) as signed_in:
        response = signed_in.post(
            "/_upload", files=multipart(10), headers={"Origin": "https://evil.example"}
        )
        assert downstream.calls == 0 and reads == []
        # Positive control: the same client from our own origin is let through.
        assert (
            signed_in.post("/_upload", files=multipart(10), headers={"Origin": ORIGIN}).status_code
            == 200
        )
    assert response.status_code == 403
    assert downstream.files == [10]


def test_a_cors_preflight_from_an_allowed_origin_passes_without_a_cookie() -> None:
    """Under `reflex run` the page (PORT) and /_upload (BACKEND_PORT) are two origins: the
    browser asks first, without cookies, and the upload itself still needs the session."""
    downstream = Downstream()
    cors = CORSMiddleware(
        downstream.app(),
        allow_origins=[ORIGIN],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app = UploadGuard(cors, settings=get_settings(), allowed=[ORIGIN])
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "reflex-client-token",
    }
    with client(app) as anonymous:
        allowed = anonymous.options("/_upload", headers=preflight)
        foreign = anonymous.options(
            "/_upload", headers={**preflight, "Origin": "https://evil.example"}
        )
        upload = anonymous.post("/_upload", files=multipart(10), headers={"Origin": ORIGIN})
        # Only a preflight: a bare OPTIONS is an anonymous request like any other.
        bare = anonymous.options("/_upload", headers={"Origin": ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert foreign.status_code == 403
    assert upload.status_code == 401 and bare.status_code == 401 and downstream.calls == 0
    # Positive control: the same upload with a session passes the guard and CORS.
    with client(app, signed_in_token()[1]) as signed_in:
        assert (
            signed_in.post("/_upload", files=multipart(10), headers={"Origin": ORIGIN}).status_code
            == 200
        )
    assert downstream.files == [10]


@pytest.mark.usefixtures("small_cap")
def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    _, token = signed_in_token()
    downstream = Downstream()
    app, reads = guarded(downstream)
    with client(app, token) as signed_in:
        response = signed_in.post("/_upload", files=multipart(CAP + 1))
        assert downstream.calls == 0 and reads == []
        # Positive control: the same client under the cap is read and stored.
        assert (
            signed_in.post("/_upload", files=multipart(10), headers={"Origin": ORIGIN}).status_code
            == 200
        )
    assert response.status_code == 413
    assert f"at most {CAP:,} bytes" in response.text
    assert downstream.files == [10]


@pytest.mark.usefixtures("small_cap")
def test_a_streamed_body_is_cut_off_at_the_cap() -> None:
    _, token = signed_in_token()
    downstream = Downstream()
    app, reads = guarded(downstream)

    def chunks() -> Iterator[bytes]:
        # No Content-Length: the body arrives chunked, 8 KiB at a time, far past the cap.
        boundary = b"--b\r\nContent-Disposition: form-data; name=files; filename=a\r\n\r\n"
        yield boundary
        for _ in range(200):
            yield b"x" * 8192

    with client(app, token) as signed_in:
        response = signed_in.post(
            "/_upload",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert downstream.files == []
        cut_at = len(reads)
        # Positive control: a small upload through the same client is stored.
        assert (
            signed_in.post("/_upload", files=multipart(10), headers={"Origin": ORIGIN}).status_code
            == 200
        )
    assert response.status_code == 413
    assert downstream.disconnected and downstream.files == [10]
    # It stopped at the cap, not at the end of the 1.6 MB body.
    assert cut_at * 8192 <= CAP + 2 * 8192


@pytest.mark.usefixtures("small_cap")
def test_a_signed_in_upload_under_the_cap_passes() -> None:
    _, token = signed_in_token()
    downstream = Downstream()
    app, _ = guarded(downstream)
    with client(app, token) as signed_in:
        response = signed_in.post("/_upload", files=multipart(LIMIT), headers={"Origin": ORIGIN})
    assert response.status_code == 200 and response.text == "stored"
    assert downstream.files == [LIMIT]


@pytest.mark.usefixtures("small_cap")
def test_the_session_is_resolved_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    _, token = signed_in_token()
    resolved_on: list[int] = []
    loop_thread: list[int] = []
    real = accounts.resolve_user

    def recording(value: str | None) -> object:
        resolved_on.append(threading.get_ident())
        return real(value)

    monkeypatch.setattr(accounts, "resolve_user", recording)
    guard, _ = guarded(Downstream())

    async def on_loop(scope: Scope, receive: Receive, send: Send) -> None:
        loop_thread.append(threading.get_ident())
        await guard(scope, receive, send)

    with TestClient(on_loop, base_url=ORIGIN, cookies={session_cookie_name(): token}) as c:
        assert c.post("/_upload", files=multipart(10)).status_code == 200
    assert resolved_on and loop_thread and resolved_on[0] != loop_thread[0]


# --- the running production app, raw HTTP ---


def _head(app: RunningApp, length: int, cookie: str = "", chunked: bool = False) -> str:
    host = urlsplit(app.url).netloc
    lines = [
        "POST /_upload HTTP/1.1",
        f"Host: {host}",
        f"Origin: {app.url}",
        "Content-Type: multipart/form-data; boundary=b",
        "Reflex-Client-Token: 00000000-0000-0000-0000-000000000000",
        f"Reflex-Event-Handler: {FilesState.get_full_name()}.upload",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return "\r\n".join(lines) + "\r\n\r\n"


def test_app_refuses_an_anonymous_upload_before_its_body(app_server: RunningApp) -> None:
    started = time.monotonic()
    response = request_head_only(app_server.url, _head(app_server, 50_000_000))
    assert status_of(response) == 401, response[:300]
    assert time.monotonic() - started < 5


def test_app_refuses_a_declared_oversize_upload_before_its_body(app_server: RunningApp) -> None:
    cookie = sign_up_cookie(app_server.url, "upload-cap-1@example.com")
    response = request_head_only(app_server.url, _head(app_server, 50_000_000, cookie))
    assert status_of(response) == 413, response[:300]
    assert b"Upload too large" in response


def test_app_cuts_off_a_chunked_oversize_upload(app_server: RunningApp) -> None:
    # The e2e app runs with UPLOAD_MAX_BYTES=2000000.
    cookie = sign_up_cookie(app_server.url, "upload-cap-2@example.com")
    parts = urlsplit(app_server.url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=20) as s:
        s.sendall(_head(app_server, 0, cookie, chunked=True).encode())
        opening = b"--b\r\nContent-Disposition: form-data; name=files; filename=a\r\n\r\n"
        chunk = b"x" * 65536
        sent = 0
        try:
            s.sendall(b"%x\r\n%s\r\n" % (len(opening), opening))
            while sent < 6_000_000:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass  # the server may stop listening once it has answered
        response = read_response(s)
    assert status_of(response) == 413, response[:300]

"""Outbound model calls (issue 9, item 5): a user-chosen base URL never reaches loopback,
private, link-local, CGNAT, multicast or metadata addresses, after DNS and across redirects,
unless the operator allowlists them; and the error text does not say which ports are open."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from compymac_rx.agent import outbound
from compymac_rx.agent.openai_backend import OpenAIBackend
from compymac_rx.agent.types import ModelError
from compymac_rx.keys import choice as model_choice
from compymac_rx.keys import service as keys
from tests.conftest import clear_caches
from tests.factories import make_user
from tests.fake_openai import FakeOpenAI
from tests.services import free_port

KEY = "sk-ssrf-test-key-0001"
BLOCKED = "points to a private, local or reserved address"


@pytest.fixture
def custom_urls(monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> FakeOpenAI:
    """Custom base URLs turned on, nothing allowlisted; the fake model server on 127.0.0.1."""
    monkeypatch.setenv("ALLOW_CUSTOM_BASE_URL", "true")
    monkeypatch.delenv("MODEL_URL_ALLOWLIST", raising=False)
    clear_caches()
    return fake_openai


def allow(monkeypatch: pytest.MonkeyPatch, entries: str) -> None:
    monkeypatch.setenv("MODEL_URL_ALLOWLIST", entries)
    clear_caches()


def backend(base_url: str, timeout: float = 5) -> OpenAIBackend:
    return OpenAIBackend(
        base_url=base_url,
        api_key=KEY,
        model="fake-small",
        context_window=4096,
        max_output_tokens=256,
        timeout_seconds=timeout,
        max_retries=0,
        user_url=True,
    )


def test_custom_base_urls_are_off_by_default(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(keys.KeyRefused, match="turned off"):
        keys.save_key(make_user().id, "custom", KEY, base_url=fake_openai.url)
    assert fake_openai.requests == []
    # Positive control: turned on and allowlisted, the same save reaches the fake.
    monkeypatch.setenv("ALLOW_CUSTOM_BASE_URL", "true")
    allow(monkeypatch, "127.0.0.1")
    keys.save_key(make_user().id, "custom", KEY, base_url=fake_openai.url)
    assert fake_openai.requests


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",  # a name that resolves to loopback: checked after DNS
        "2130706433",  # 127.0.0.1 in decimal
        "0x7f000001",  # ... in hex
        "0177.0.0.1",  # ... in octal
        "127.1",
        "[::1]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",  # NAT64
        "169.254.169.254",  # cloud metadata
        "[fd00:ec2::254]",  # AWS metadata over IPv6
        "[fe80::1]",
        "[fc00::1]",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT
        "0.0.0.0",
        "[::]",
        "224.0.0.1",
        "255.255.255.255",
    ],
)
def test_internal_targets_are_refused(
    custom_urls: FakeOpenAI, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = custom_urls.url.split(":")[2].split("/")[0]
    with pytest.raises(keys.KeyRefused, match=BLOCKED):
        keys.save_key(make_user().id, "custom", KEY, base_url=f"http://{host}:{port}/v1")
    assert custom_urls.requests == []
    # Positive control: the fake is reachable once its address is allowlisted.
    allow(monkeypatch, "127.0.0.1")
    keys.save_key(make_user().id, "custom", KEY, base_url=custom_urls.url)
    assert custom_urls.requests


def test_the_connection_itself_is_vetted_not_only_the_saved_url(
    custom_urls: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check at save time is for a clear message; the guard is in the transport, so a
    name that changes its answer later (DNS rebinding) or a URL saved under an older
    allowlist is still refused when the job runs."""
    with pytest.raises(ModelError) as refused:
        backend(custom_urls.url).list_models()
    assert str(refused.value) == outbound.UNREACHABLE
    assert custom_urls.requests == []
    # Positive control: the same transport connects once the address is allowlisted.
    allow(monkeypatch, "127.0.0.1")
    backend(custom_urls.url).list_models()
    assert custom_urls.requests


def test_a_key_saved_under_an_allowlist_stops_when_it_is_removed(
    custom_urls: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    allow(monkeypatch, "127.0.0.1")
    keys.save_key(user.id, "custom", KEY, base_url=custom_urls.url)
    allow(monkeypatch, "")
    before = len(custom_urls.requests)
    model, choice = model_choice.backend_for_job(user.id, "custom:fake-small")
    with pytest.raises(ModelError, match="Could not connect to that base URL"):
        list(model.stream([], []))
    assert len(custom_urls.requests) == before and choice == "custom:fake-small"
    monkeypatch.setenv("ALLOW_CUSTOM_BASE_URL", "false")
    clear_caches()
    with pytest.raises(ModelError, match="turned off"):
        model_choice.backend_for_job(user.id, "custom:fake-small")


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.0/8", "localhost"])
def test_the_allowlist_lets_a_local_server_through(
    custom_urls: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    allow(monkeypatch, f"vllm.internal, {entry}")
    base = custom_urls.url.replace("127.0.0.1", "localhost") if entry == "localhost" else None
    saved = keys.save_key(make_user().id, "custom", KEY, base_url=base or custom_urls.url)
    assert saved.models == ["fake-large", "fake-small"]
    assert custom_urls.requests[-1].authorization == f"Bearer {KEY}"


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target + self.path.removeprefix("/v1"))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def redirector(custom_urls: FakeOpenAI) -> Iterator[str]:
    """An allowlisted server on 127.0.0.2 that redirects to the fake model on 127.0.0.1."""
    handler = type("Handler", (_Redirect,), {"target": custom_urls.url})
    server = ThreadingHTTPServer(("127.0.0.2", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.2:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_redirect_to_a_blocked_address_is_not_followed(
    custom_urls: FakeOpenAI, redirector: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow(monkeypatch, "127.0.0.2")
    with pytest.raises(keys.KeyRefused, match="failed \\(302\\)"):
        keys.save_key(make_user().id, "custom", KEY, base_url=redirector)
    assert custom_urls.requests == []  # the fake behind the redirect was never called
    # Positive control: the fake answers a direct, allowlisted save.
    allow(monkeypatch, "127.0.0.1")
    keys.save_key(make_user().id, "custom", KEY, base_url=custom_urls.url)
    assert custom_urls.requests


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections, then says nothing useful (not HTTP) and closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    listener.close()


def test_errors_read_the_same_for_open_and_closed_ports(
    custom_urls: FakeOpenAI, silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_http = int(custom_urls.url.split(":")[2].split("/")[0])
    # Blocked addresses: never connected, one message whether something listens or not.
    blocked = set()
    for port in (open_http, free_port()):
        with pytest.raises(ModelError) as refused:
            backend(f"http://127.0.0.1:{port}/v1").list_models()
        blocked.add(str(refused.value))
    assert blocked == {outbound.UNREACHABLE}
    # An allowlisted address: a closed port, and an open one that speaks no HTTP.
    allow(monkeypatch, "127.0.0.2")
    allowed = set()
    for port in (silent_port, free_port()):
        with pytest.raises(ModelError) as refused:
            backend(f"http://127.0.0.2:{port}/v1", timeout=2).list_models()
        allowed.add(str(refused.value))
    assert allowed == {outbound.UNREACHABLE}
    # Saving a key says the same for both ports of a blocked address.
    allow(monkeypatch, "")
    texts = set()
    for port in (open_http, free_port()):
        with pytest.raises(keys.KeyRefused) as refused:
            keys.save_key(make_user().id, "custom", KEY, base_url=f"http://127.0.0.1:{port}/v1")
        texts.add(str(refused.value))
    assert len(texts) == 1 and custom_urls.requests == []


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("2002:a00:1::", False),  # 6to4 carrying 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 carrying 169.254.169.254
        ("198.18.0.1", False),  # benchmarking
        ("192.0.2.1", False),  # documentation
    ],
)
def test_addresses_carried_inside_others_are_unwrapped(address: str, public: bool) -> None:
    assert outbound.is_public(ipaddress.ip_address(address)) is public


def test_a_name_with_one_private_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80))
        for ip in ("93.184.216.34", "10.0.0.1")
    ]
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(outbound.BlockedAddress):
        outbound.resolve("mixed.example", 80)


def test_the_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name answers an allowed address once, then a blocked one. The
    transport resolves once per connection and connects to what it checked."""
    fake = FakeOpenAI(host="127.0.0.2").start()
    try:
        monkeypatch.setenv("ALLOW_CUSTOM_BASE_URL", "true")
        allow(monkeypatch, "127.0.0.2")
        real = socket.getaddrinfo
        calls: list[str] = []

        def rebinding(host: str, port: int, *args: object, **kwargs: object) -> object:
            if host != "model.rebind.test":
                return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
            calls.append(host)
            ip = "127.0.0.2" if len(calls) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

        monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
        port = fake.url.rsplit(":", 1)[1].split("/")[0]
        models = backend(f"http://model.rebind.test:{port}/v1").list_models()
        assert models == ["fake-large", "fake-small"] and calls == ["model.rebind.test"]
        assert len(fake.requests) == 1
    finally:
        fake.stop()

"""Raw HTTP against the running app, for what a browser would never send (or never show)."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

from tests.e2e.helpers import PASSWORD


def sign_up_cookie(app_url: str, email: str) -> str:
    """Create an account through the real form route; returns the `name=value` cookie pair."""
    parts = urlsplit(app_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    body = f"email={email}&password={PASSWORD.replace(' ', '+')}&next=/"
    connection.request(
        "POST",
        "/auth/signup",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": app_url},
    )
    response = connection.getresponse()
    assert response.status == 303, response.read()
    cookie = response.getheader("set-cookie")
    assert cookie, "sign-up set no cookie"
    connection.close()
    return cookie.split(";", 1)[0]


def request_head_only(app_url: str, head: str, timeout: float = 10) -> bytes:
    """Send request headers, never the body they announce, and read what the server answers.

    A server that read (or spooled) the body first would wait here until the timeout.
    """
    parts = urlsplit(app_url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=timeout) as s:
        s.sendall(head.encode("latin-1"))
        return read_response(s)


def read_response(s: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])

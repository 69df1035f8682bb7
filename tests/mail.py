"""Mail in tests: a Mailer that keeps what it was given (built from the real interface), and
a real SMTP server (aiosmtpd) for the browser tests."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

from compymac_rx import mailer
from compymac_rx.accounts import resets
from compymac_rx.mailer import Mail

if TYPE_CHECKING:
    from aiosmtpd.smtp import Envelope


class KeptMail:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.sent.append(mail)

    def links(self) -> list[str]:
        resets.flush_outbox()
        return [m for mail in self.sent for m in re.findall(r"https?://\S+", mail.text)]

    def token(self) -> str:
        [link] = self.links()[-1:]
        return link.split("token=", 1)[1]


def keep_mail(monkeypatch: pytest.MonkeyPatch) -> KeptMail:
    kept = KeptMail()
    monkeypatch.setattr(mailer, "get_mailer", lambda: kept)
    monkeypatch.setattr(resets, "get_mailer", lambda: kept)
    return kept


class SmtpCapture:
    """A real SMTP server (aiosmtpd) on a free local port that keeps every message: the app
    under test sends through it with MAILER=smtp, SMTP_SECURITY=none."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.port = port
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def __enter__(self) -> SmtpCapture:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    def link(self, to: str, path: str, *, after: int = 0, timeout: float = 20) -> str:
        """The first link containing `path` in a message to `to`, among messages received
        after the first `after` ones (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = self.messages[after:]
            for message in found:
                if message["To"] != to:
                    continue
                body = message.get_body(("plain",))
                text = body.get_content() if body is not None else ""
                for link in re.findall(r"https?://\S+", text):
                    if path in link:
                        return str(link)
            time.sleep(0.2)
        raise AssertionError(f"no mail to {to} with a {path} link")

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

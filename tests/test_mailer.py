"""The Mailer implementations: the console one prints, the SMTP one speaks SMTP to a server."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes

import pytest

from compymac_rx.mailer import ConsoleMailer, Mail, SmtpMailer, get_mailer
from compymac_rx.settings import load_settings
from tests.conftest import clear_caches

MAIL = Mail(to="to@example.com", subject="Hello", text="line one\nhttp://x.example/reset?token=t")


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib's send_message (no auth, no TLS)."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    body += chunk
                self.server.received.append(body)  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_console_mailer_prints_the_whole_message(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleMailer("app@example.com").send(MAIL)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "[mail] To: to@example.com",
        "[mail] Subject: Hello",
        "[mail] line one",
        "[mail] http://x.example/reset?token=t",
    ]


def test_the_smtp_mailer_delivers(smtp_server: socketserver.ThreadingTCPServer) -> None:
    port = smtp_server.server_address[1]
    settings = load_settings(
        mailer="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="CompyMac <app@example.com>",
    )
    SmtpMailer(settings).send(MAIL)
    [raw] = smtp_server.received  # type: ignore[attr-defined]
    message = message_from_bytes(raw)
    assert message["To"] == "to@example.com" and message["From"] == "CompyMac <app@example.com>"
    assert "reset?token=t" in message.get_payload()


def test_settings_choose_the_mailer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(get_mailer(), ConsoleMailer)
    monkeypatch.setenv("MAILER", "smtp")
    clear_caches()
    with pytest.raises(SystemExit, match="SMTP_HOST"):
        get_mailer()
    monkeypatch.setenv("SMTP_HOST", "mail.example.com")
    clear_caches()
    assert isinstance(get_mailer(), SmtpMailer)

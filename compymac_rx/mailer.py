"""Mail leaves through one interface: SMTP (settings), or the console for the embedded profile.

Password resets, email verification and sign-in links send mail. The console mailer writes the
whole message to the process's output, where an operator of a zero-service install (or a test)
reads the link.
"""

from __future__ import annotations

import dataclasses
import functools
import smtplib
import ssl
import sys
import threading
from email.message import EmailMessage
from typing import Protocol

from compymac_rx.settings import Settings, get_settings


@dataclasses.dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Blocking: deliver one plain-text message (raises on failure)."""
        ...


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, mail.to, mail.subject
    message.set_content(mail.text)
    return message


class ConsoleMailer:
    # Marks the lines, so a person (or a test) finds them among the other output.
    MARK = "[mail]"

    def __init__(self, sender: str) -> None:
        self._sender = sender
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        lines = [f"To: {mail.to}", f"Subject: {mail.subject}", *mail.text.splitlines()]
        with self._lock:  # one message's lines stay together
            for line in lines:
                print(f"{self.MARK} {line}", file=sys.stdout, flush=True)


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, mail: Mail) -> None:
        s = self._settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(_message(mail, s.mail_from))


@functools.cache
def get_mailer() -> Mailer:
    settings = get_settings()
    if settings.mailer == "smtp":
        return SmtpMailer(settings)
    return ConsoleMailer(settings.mail_from)

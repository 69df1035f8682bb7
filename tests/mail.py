"""A Mailer for tests: keeps what it was given (built from the real interface)."""

from __future__ import annotations

import re

import pytest

from compymac_rx import mailer
from compymac_rx.accounts import resets
from compymac_rx.mailer import Mail


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

"""The app with mail through a real SMTP server (aiosmtpd, started for the session),
EMAIL_VERIFICATION=required and MAGIC_LINK=true."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningApp, free_port, run_app
from tests.mail import SmtpCapture


@dataclass
class MailApp:
    app: RunningApp
    smtp: SmtpCapture

    @property
    def url(self) -> str:
        return self.app.url


@contextlib.contextmanager
def started_mail_app(work: Path, **settings: str) -> Iterator[MailApp]:
    """The app with its mail going to a real SMTP server of the test, `settings` on top."""
    with SmtpCapture(free_port()) as smtp:
        env = {
            "MAILER": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "AUTH_CACHE_SECONDS": "1",
            # Its own build folder: another app of the e2e tests may be serving .web.
            "REFLEX_WEB_WORKDIR": str(work / "web"),
            **settings,
        }
        data_dir = work / "data"
        data_dir.mkdir()
        with run_app(data_dir, free_port(), env) as app:
            yield MailApp(app, smtp)


@pytest.fixture(scope="session")
def mail_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailApp]:
    with started_mail_app(
        tmp_path_factory.mktemp("mail"),
        EMAIL_VERIFICATION="required",
        MAGIC_LINK="true",
        SIGNUPS_PER_HOUR_PER_IP="1000",
        MAIL_LINKS_PER_HOUR="50",
    ) as app:
        yield app

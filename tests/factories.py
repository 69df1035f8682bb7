"""Small builders for test data, through the real services."""

from __future__ import annotations

import itertools
import time

import httpx

from compymac_rx.accounts import service as accounts
from compymac_rx.accounts.models import CurrentUser
from compymac_rx.chats import service as chats
from compymac_rx.identity.http import session_cookie_name
from compymac_rx.jobs.models import JobPublic, JobStatus

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(email: str | None = None) -> CurrentUser:
    email = email or f"user{next(_counter)}@example.com"
    token = accounts.sign_up(email, PASSWORD)
    user = accounts.resolve_user(token)
    assert user is not None
    return user


def signed_in_token(email: str | None = None) -> tuple[CurrentUser, str]:
    email = email or f"user{next(_counter)}@example.com"
    token = accounts.sign_up(email, PASSWORD)
    user = accounts.resolve_user(token)
    assert user is not None
    return user, token


def wait_for_job(user_id: str, job_id: str, timeout: float = 15.0) -> JobPublic:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = chats.get_job(user_id, job_id)
        assert job is not None
        if JobStatus(job.status).finished:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def session_cookies_set(response: httpx.Response) -> list[str]:
    """The Set-Cookie headers of `response` that set the sign-in cookie itself (a failed form
    may set others, such as the remembered email)."""
    name = f"{session_cookie_name()}="
    return [c for c in response.headers.get_list("set-cookie") if c.startswith(name)]

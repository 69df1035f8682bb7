"""The production stack, for real: sign-in through Keycloak over https, turns on workers, and
the faults an operator meets (a worker killed, an app replica restarted, Redis restarted).

The tests share one stack and one signed-in browser tab and run in file order; after each
fault the database must hold every message of every turn exactly once.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.compose.stack import (
    CERT,
    HOST_URL,
    PUBLIC_URL,
    USER_PASSWORD,
    KeycloakAdmin,
    compose,
    containers,
    docker,
    sql,
)

pytestmark = pytest.mark.usefixtures("stack")
TIMEOUT = 60_000
# The builtin agent's `help` reply, paced by BUILTIN_STREAM_DELAY_MS (compose.test.yml): it
# streams for several seconds, long enough to break something in the middle.
PROMPT = "help"
REPLY_END = "run wc -l notes/todo.md"
NEW_PASSWORD = "a new horse, a new battery"
_emails = itertools.count(1)
# The page a replica serves for `/`, read inside its container (not through the proxy).
READ_INDEX = (
    "import urllib.request as u; print(u.urlopen('http://127.0.0.1:3000/').read().decode())"
)


@pytest.fixture(scope="module")
def keycloak() -> KeycloakAdmin:
    return KeycloakAdmin()


@pytest.fixture(scope="module")
def user(keycloak: KeycloakAdmin) -> tuple[str, str]:
    email = f"compose{next(_emails)}-{int(time.time())}@example.com"
    return email, keycloak.create_user(email)


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    # The proxy's certificate is self-signed; TLS itself (and so Secure cookies) is real.
    context = browser.new_context(ignore_https_errors=True)
    yield context
    context.close()


@pytest.fixture(scope="module")
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, email: str) -> None:
    page.goto(PUBLIC_URL)
    page.get_by_role("button", name=re.compile("^Continue with")).click()
    page.wait_for_url(re.compile(re.escape(f"{PUBLIC_URL}/idp/")), timeout=TIMEOUT)
    page.locator("#username").fill(email)
    page.locator("#password").fill(USER_PASSWORD)
    page.locator("#kc-login").click()
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached(
        timeout=TIMEOUT
    )


def start_turn(page: Page) -> str:
    """Send the prompt, wait until the reply is streaming, return the job's id."""
    composer = page.get_by_label("Message", exact=True)
    expect(page.get_by_role("button", name="Send message")).to_be_visible(timeout=TIMEOUT)
    composer.fill(PROMPT)
    composer.press("Enter")
    expect(page.get_by_text("Commands", exact=True).last).to_be_visible(timeout=TIMEOUT)
    [[job_id]] = sql("SELECT id FROM jobs ORDER BY created_at DESC LIMIT 1")
    return job_id


def expect_turn_done(page: Page, job_id: str) -> None:
    """The job ends `done` in the database and the tab shows the whole reply."""
    deadline = time.monotonic() + TIMEOUT * 2 / 1000
    status = ""
    while time.monotonic() < deadline:
        [[status]] = sql(f"SELECT status FROM jobs WHERE id = '{job_id}'")
        if status not in ("queued", "running"):
            break
        time.sleep(1)
    assert status == "done"
    expect(page.get_by_text(REPLY_END).last).to_be_visible(timeout=TIMEOUT)


def assert_each_message_once() -> None:
    """No job wrote a step twice, and every finished job has its reply."""
    duplicates = sql(
        "SELECT job_id, job_step, count(*) FROM messages WHERE job_id IS NOT NULL "
        "GROUP BY job_id, job_step HAVING count(*) > 1"
    )
    assert duplicates == []
    replies = sql(
        "SELECT j.id, count(m.id) FROM jobs j LEFT JOIN messages m "
        "ON m.job_id = j.id AND m.role = 'assistant' WHERE j.status = 'done' GROUP BY j.id"
    )
    assert replies and all(count == "1" for _, count in replies), replies
    sequences = sql(
        "SELECT session_id, count(*), count(DISTINCT seq) FROM messages GROUP BY session_id"
    )
    assert all(total == distinct for _, total, distinct in sequences), sequences


def test_every_app_replica_serves_the_same_frontend_in_round_robin() -> None:
    """The frontend is built once, into the image (no replica builds its own at start), so the
    proxy balances the replicas plainly: no sticky sessions."""
    replicas = containers("app")
    assert len(replicas) == 2
    pages = {
        hashlib.sha256(docker("exec", cid, "python", "-c", READ_INDEX).encode()).hexdigest()
        for cid in replicas
    }
    assert len(pages) == 1, "the replicas serve different builds"
    for _ in range(6):
        httpx.get(f"{HOST_URL}/ping", verify=str(CERT)).raise_for_status()
    upstreams = {
        record["upstream"]
        for line in compose("logs", "--no-color", "--no-log-prefix", "proxy").splitlines()
        if line.startswith("{") and (record := json.loads(line))["path"] == "/ping"
    }
    assert len(upstreams) == 2, upstreams


def test_sign_in_through_keycloak_run_a_turn_reload_mid_turn(
    page: Page, context: BrowserContext, user: tuple[str, str], planted: list[str]
) -> None:
    email, _ = user
    sign_in(page, email)
    expect(page.get_by_text(email)).to_be_attached()
    # https at the edge: the session cookie is Secure (and __Host- bound), HSTS is sent.
    [cookie] = [c for c in context.cookies() if c["httpOnly"] and "session" in c["name"]]
    assert cookie["secure"] and cookie["name"].startswith("__Host-")
    planted.append(cookie["value"])
    headers = httpx.get(f"{HOST_URL}/signin", verify=str(CERT)).headers
    assert "max-age" in headers["strict-transport-security"]
    assert headers["x-request-id"]

    page.get_by_role("button", name="New session", exact=True).click()
    page.wait_for_url(re.compile(r"/s/[0-9a-f]{32}$"), timeout=TIMEOUT)
    job_id = start_turn(page)
    page.reload()
    expect_turn_done(page, job_id)
    assert_each_message_once()


def test_a_worker_killed_mid_turn_another_finishes_it(page: Page) -> None:
    job_id = start_turn(page)
    # The worker that holds the job logged its task id; kill that container outright.
    holder = [cid for cid in containers("worker") if job_id in docker("logs", cid, timeout=30)]
    assert len(holder) == 1, holder
    docker("kill", holder[0])
    expect_turn_done(page, job_id)
    assert_each_message_once()
    compose("up", "-d", "--wait", "--no-recreate", "--scale", "app=2", "--scale", "worker=3")


def _replica_with_the_tab() -> str:
    """The app replica holding an established connection on :3000 (the tab's WebSocket)."""
    for cid in containers("app"):
        table = docker("exec", cid, "cat", "/proc/net/tcp", "/proc/net/tcp6")
        # local address :0BB8 (3000), state 01 (ESTABLISHED)
        if re.search(r"^\s*\d+: [0-9A-F]+:0BB8 [0-9A-F]+:[0-9A-F]+ 01 ", table, re.M):
            return cid
    raise AssertionError("no app replica holds the tab's connection")


def test_the_tab_rides_out_a_restart_of_its_app_replica(page: Page) -> None:
    replica = _replica_with_the_tab()
    job_id = start_turn(page)
    docker("restart", replica, timeout=300)
    expect_turn_done(page, job_id)
    assert_each_message_once()
    compose("up", "-d", "--wait", "--no-recreate", "--scale", "app=2", "--scale", "worker=3")


def test_a_redis_restart_mid_turn_loses_no_message(page: Page) -> None:
    job_id = start_turn(page)
    compose("restart", "redis")
    # Reflex state lived in Redis: the tab reloads its view from the database.
    page.reload()
    expect_turn_done(page, job_id)
    assert_each_message_once()


def test_sign_out_ends_the_keycloak_session_too(
    page: Page, keycloak: KeycloakAdmin, user: tuple[str, str]
) -> None:
    _, user_id = user
    assert keycloak.sessions(user_id)
    page.get_by_role("button", name="Sign out").click()
    # The app ends its session and sends the browser through Keycloak's end-session endpoint,
    # which comes back to the sign-in page.
    page.wait_for_url(re.compile(re.escape(f"{PUBLIC_URL}/signin")), timeout=TIMEOUT)
    assert keycloak.sessions(user_id) == []
    page.get_by_role("button", name=re.compile("^Continue with")).click()
    # Keycloak asks for the password again: its session is gone.
    expect(page.locator("#password")).to_be_visible(timeout=TIMEOUT)


def mails_to(address: str) -> list[EmailMessage]:
    """What the mail catcher (the `mail` service, Keycloak's SMTP server) received for address."""
    found = []
    for line in compose("logs", "--no-color", "--no-log-prefix", "mail").splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if address in record["to"]:
            message = email.message_from_string(record["message"], policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
    return found


def test_a_forgotten_password_is_reset_through_the_mail_keycloak_sends(
    browser: Browser, keycloak: KeycloakAdmin, planted: list[str]
) -> None:
    """Keycloak's SMTP settings reach the realm: "Forgot password" on the real login page over
    https mails a link to the public https address, and the link resets the password."""
    email_address = f"forgetful{next(_emails)}-{int(time.time())}@example.com"
    keycloak.create_user(email_address)
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(PUBLIC_URL)
    page.get_by_role("button", name=re.compile("^Continue with")).click()
    page.wait_for_url(re.compile(re.escape(f"{PUBLIC_URL}/idp/")), timeout=TIMEOUT)
    page.get_by_role("link", name="Forgot Password?").click()
    page.locator("#username").fill(email_address)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("You should receive an email shortly")).to_be_visible(timeout=TIMEOUT)

    deadline = time.monotonic() + 30
    while not (mails := mails_to(email_address)) and time.monotonic() < deadline:
        time.sleep(1)
    [mail] = mails
    assert mail["To"] == email_address
    body = mail.get_body(("plain",))
    assert body is not None
    [link] = [
        link
        for link in re.findall(r"https?://\S+", body.get_content())
        if "/login-actions/action-token" in link
    ]
    assert link.startswith(f"{PUBLIC_URL}/idp/realms/")
    # The action token must stay out of every log but the catcher's (test_2_operations).
    [token] = parse_qs(urlsplit(link).query)["key"]
    planted.extend([token, NEW_PASSWORD])

    page.goto(link)
    page.locator("#password-new").fill(NEW_PASSWORD)
    page.locator("#password-confirm").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Submit").click()
    # Keycloak finishes the sign-in the app started: back in the app, signed in.
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached(
        timeout=TIMEOUT
    )
    assert page.url.startswith(PUBLIC_URL)
    context.close()

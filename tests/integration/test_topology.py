"""The production topology as real processes, driven through a real browser.

PostgreSQL, Redis (event bus, Reflex state, rate limits, Celery broker), Keycloak (the
identity provider, IDENTITY_PROVIDER=keycloak), two Celery workers and two app backends (each
`reflex run --env prod` with two granian workers and the Redis state manager). Every test user
is created in Keycloak through its admin API and signs in on Keycloak's own login page. The
realm import allows backend A's URL; backend B's redirect URI is added through the admin API.
Each fault test checks the database afterwards: nothing lost, nothing twice."""

from __future__ import annotations

import base64
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import ROOT, clear_caches, fresh_pg_database
from tests.e2e.helpers import (
    TIMEOUT,
    conversation,
    new_session,
    send,
    sign_in_through_keycloak,
    unique_email,
)
from tests.integration.apps import BIN, AppBackend
from tests.integration.checks import assert_turn_intact
from tests.integration.conftest import FAST_REAPER, WORKER_CMD, wait_for_log
from tests.keycloak_server import (
    CLIENT_ID,
    USER_PASSWORD,
    Keycloak,
    realm_admin,
    realm_settings,
)
from tests.services import Postgres, Redis, free_port, redis_server

# `run seq 1 N` stores a tool record, then streams a summary of N lines: long enough to act in.
LONG_TURN = "run seq 1 300"
LONG_TURN_END = "300"
LONGER_TURN = "run seq 1 1000"
LONG = 90_000


@dataclass
class Stack:
    env: dict[str, str]
    redis: Redis
    keycloak: Keycloak
    a: AppBackend
    b: AppBackend
    workers: list[subprocess.Popen[bytes]]
    folder: Path

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        log = self.folder / f"worker-{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*WORKER_CMD, "-n", f"{name}@%h", "-c", "2"],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_log(log, "ready.", process)
        self.workers.append(process)
        return process


@pytest.fixture(scope="module")
def stack(
    postgres: Postgres, keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("topology")
    port_a, port_b = free_port(), free_port()
    # The run's Keycloak, with access tokens that outlast these tests: a refresh is not what
    # they are about, and one while Redis or a backend is down would only add noise.
    with (
        redis_server(folder) as redis,
        realm_settings(realm_admin(keycloak), accessTokenLifespan=300),
    ):
        keycloak.allow_app_url(f"http://localhost:{port_a}")
        keycloak.allow_app_url(f"http://localhost:{port_b}")
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        env = {
            "DATABASE_URL": postgres.url(fresh_pg_database(postgres)),
            "REDIS_URL": redis.url,
            "REFLEX_REDIS_URL": redis.url,
            "EVENT_BUS": "redis",
            "JOB_RUNNER": "celery",
            "RATE_LIMIT_STORE": "redis",
            "DATA_DIR": str(folder / "data"),
            "SECRET_KEYS": f"k1:{key}",
            "BUILTIN_STREAM_DELAY_MS": "100",
            "GRANIAN_WORKERS": "2",
            "SIGNUPS_PER_HOUR_PER_IP": "1000",
            "IDENTITY_PROVIDER": "keycloak",
            "OIDC_ISSUER": keycloak.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": keycloak.client_secret,
            "OIDC_DISPLAY_NAME": "Keycloak",
            **FAST_REAPER,
        }
        subprocess.run(
            [str(BIN / "alembic"), "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        # Each backend's PUBLIC_URL is its own port: the redirect URI it sends to Keycloak.
        a = AppBackend(folder / "a", env, "backend-a", port_a)
        b = AppBackend(folder / "b", env, "backend-b", port_b)
        built = Stack(env, redis, keycloak, a, b, [], folder)
        try:
            # Both frontend builds and the workers' start-up overlap.
            a.launch()
            b.launch()
            built.start_worker("w1")
            built.start_worker("w2")
            a.wait_up()
            b.wait_up()
            yield built
        finally:
            a.stop()
            b.stop()
            for worker in built.workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
            for worker in built.workers:
                try:
                    worker.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)


@pytest.fixture
def stack_env(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """Points this test process at the stack's database and Redis (for the checks)."""
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    return stack


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context()
    yield ctx
    ctx.close()


def signed_in(page: Page, stack: Stack, backend: AppBackend, name: str) -> None:
    """A new user, created in Keycloak, signs in on Keycloak's login page via `backend`."""
    email = unique_email(name)
    stack.keycloak.create_user(email)
    sign_in_through_keycloak(page, backend.url, stack.keycloak.base_url, email, USER_PASSWORD)
    assert page.url.startswith(backend.url)


def job_of_last_turn(session_id: str) -> str:
    from sqlmodel import col, select

    from compymac_rx.db import session_scope
    from compymac_rx.jobs.models import Job

    with session_scope() as db:
        job = db.exec(
            select(Job).where(Job.session_id == session_id).order_by(col(Job.created_at).desc())
        ).first()
        assert job is not None
        return job.id


def wait_done(page: Page) -> None:
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=LONG)


def final_reply_once(page: Page, prompt: str = LONG_TURN) -> None:
    expect(conversation(page).get_by_text(prompt, exact=True)).to_have_count(1)
    expect(page.get_by_test_id("live-reply")).to_have_count(0)


def start_long_turn(page: Page, prompt: str = LONG_TURN) -> None:
    send(page, prompt)
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)


def test_a_tab_on_one_backend_sees_a_turn_sent_through_the_other(
    stack_env: Stack, context: BrowserContext
) -> None:
    for backend in (stack_env.a, stack_env.b):  # every dependency, Keycloak too, reachable
        ready = httpx.get(f"{backend.url}/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["identity_provider"] == "ok"
    on_a = context.new_page()
    signed_in(on_a, stack_env, stack_env.a, "topo")
    session_id = new_session(on_a)
    on_b = context.new_page()  # same cookie: one person, two tabs, two backends
    on_b.goto(f"{stack_env.b.url}/s/{session_id}")
    expect(on_b.get_by_label("Message", exact=True)).to_be_visible(timeout=TIMEOUT)
    send(on_b, "run echo across-backends")
    expect(on_a.get_by_test_id("job-status")).to_contain_text("running", timeout=TIMEOUT)
    wait_done(on_a)
    expect(conversation(on_a).get_by_text("across-backends").first).to_be_visible()
    wait_done(on_b)
    assert_turn_intact(job_of_last_turn(session_id))


def test_reload_mid_turn_catches_up(stack_env: Stack, context: BrowserContext) -> None:
    page = context.new_page()
    signed_in(page, stack_env, stack_env.a, "reload")
    session_id = new_session(page)
    start_long_turn(page)
    page.reload()
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    wait_done(page)
    final_reply_once(page)
    assert_turn_intact(job_of_last_turn(session_id))


def test_kill_9_of_the_worker_mid_turn_with_a_tab_watching(
    stack_env: Stack, context: BrowserContext
) -> None:
    page = context.new_page()
    signed_in(page, stack_env, stack_env.b, "kill")
    session_id = new_session(page)
    start_long_turn(page)
    job_id = job_of_last_turn(session_id)
    runner = next(
        w
        for w in stack_env.workers
        if w.poll() is None
        and job_id in (stack_env.folder / f"worker-{worker_name(stack_env, w)}.log").read_text()
    )
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait(10)
    stack_env.start_worker(f"w{len(stack_env.workers) + 1}")
    wait_done(page)
    final_reply_once(page)
    assert_turn_intact(job_id)


def worker_name(stack: Stack, process: subprocess.Popen[bytes]) -> str:
    return f"w{stack.workers.index(process) + 1}"


def test_restart_of_the_tabs_backend_mid_turn(stack_env: Stack, context: BrowserContext) -> None:
    page = context.new_page()
    signed_in(page, stack_env, stack_env.a, "restart")
    session_id = new_session(page)
    start_long_turn(page, LONGER_TURN)  # outlasts the restart (about 11 s)
    stack_env.a.stop()
    stack_env.a.start()
    # The tab reconnects by itself, catches up on what it missed and follows the turn to its end.
    expect(page.get_by_test_id("job-status")).to_contain_text("running", timeout=LONG)
    wait_done(page)
    final_reply_once(page, LONGER_TURN)
    assert_turn_intact(job_of_last_turn(session_id))


def test_restart_of_redis_mid_turn(stack_env: Stack, context: BrowserContext) -> None:
    page = context.new_page()
    signed_in(page, stack_env, stack_env.b, "redis")
    session_id = new_session(page)
    start_long_turn(page)
    job_id = job_of_last_turn(session_id)
    stack_env.redis.restart()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and _status(job_id) not in ("done", "failed"):
        time.sleep(0.2)
    assert _status(job_id) == "done"
    assert_turn_intact(job_id)
    # The tab's Reflex state lived in Redis; after a reload it shows the whole turn once.
    page.reload()
    expect(conversation(page).get_by_text(re.compile(LONG_TURN_END)).first).to_be_visible(
        timeout=TIMEOUT
    )
    final_reply_once(page)


def _status(job_id: str) -> str:
    from compymac_rx.db import session_scope
    from compymac_rx.jobs.models import Job

    with session_scope() as db:
        job = db.get(Job, job_id)
        return job.status if job else ""

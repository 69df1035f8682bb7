"""Operating the stack: metrics, the documented `docker compose exec app ...` commands, JSON logs
without secrets, and a backup restored into fresh volumes. Runs after test_1_stack.py (file
order), on the same stack, so the logs cover every turn and fault of the run."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.compose.stack import (
    CERT,
    FILES,
    HOST_URL,
    PUBLIC_URL,
    ROOT,
    SCALE,
    USER_PASSWORD,
    VALUES,
    compose,
    containers,
    docker,
    docker_env,
    sql,
)

pytestmark = pytest.mark.usefixtures("stack")
METRICS_TOKEN = "metricsPlantedToken7a7b7c7d"  # compose.test.yml
# One replica's /metrics, read inside its container (the token is the first argument).
SCRAPE = (
    "import sys, urllib.request as u; print(u.urlopen(u.Request('http://127.0.0.1:3000/metrics',"
    " headers={'Authorization': 'Bearer ' + sys.argv[1]})).read().decode())"
)
PLANTED_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlUGxhbnRlZA"
PLANTED_CODE = "plantedAuthCode5e6f7a8b"
SERVICE_SECRETS = [
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "KEYCLOAK_ADMIN_PASSWORD",
    "KEYCLOAK_DB_PASSWORD",
    "OIDC_CLIENT_SECRET",
]


def test_http_and_job_metrics_side_by_side() -> None:
    # Through the proxy, /metrics answers whichever replica the round robin picks...
    response = httpx.get(
        f"{HOST_URL}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        verify=str(CERT),
    )
    response.raise_for_status()
    assert re.search(r'compymac_jobs\{status="done"\} [1-9]', response.text)
    # ...and the HTTP series are per process, so Prometheus scrapes each replica, as here.
    texts = "".join(
        docker("exec", cid, "python", "-c", SCRAPE, METRICS_TOKEN) for cid in containers("app")
    )
    assert re.search(r'compymac_http_requests_total\{method="GET",route="/s",status="200"\}', texts)
    assert "compymac_http_request_duration_seconds_bucket" in texts


def test_documented_exec_commands_run_in_the_app_container() -> None:
    assert "(head)" in compose("exec", "-T", "app", "alembic", "current")
    assert (
        "session"
        in compose(
            "exec", "-T", "app", "python", "-m", "compymac_rx.ops.claim", "--dry-run"
        ).lower()
    )
    compose("exec", "-T", "app", "python", "-m", "compymac_rx.ops.rotate")


def test_logs_are_json_with_ids_and_hold_no_planted_secret(planted: list[str]) -> None:
    # Plant a few more where a careless log line would catch them: a bearer JWT, an OAuth
    # code in a query string, a session cookie.
    httpx.get(
        f"{HOST_URL}/auth/callback?code={PLANTED_CODE}&state={PLANTED_CODE}",
        headers={"Authorization": f"Bearer {PLANTED_JWT}", "Cookie": f"s={PLANTED_JWT}"},
        verify=str(CERT),
    )
    secrets = [
        *(VALUES[name] for name in SERVICE_SECRETS),
        VALUES["SECRET_KEYS"].split(":", 1)[1],
        USER_PASSWORD,
        METRICS_TOKEN,
        PLANTED_JWT,
        PLANTED_CODE,
        *planted,
    ]
    # The signed-in tab's session cookie, the mailed reset token and the new password.
    assert len(planted) >= 3
    # Every service but the mail catcher, whose whole job is to print the mail it receives.
    services = set(compose("config", "--services").split()) - {"mail"}
    everything = compose("logs", "--no-color", "--no-log-prefix", *sorted(services))
    for secret in secrets:
        assert secret not in everything, f"a log line holds a planted secret ({secret[:4]}...)"

    ids = {"request_id": 0, "job_id": 0}
    for service in ("app", "worker"):
        lines = compose("logs", "--no-color", "--no-log-prefix", service).splitlines()
        assert lines
        for line in lines:
            record = json.loads(line)  # every line of the app and the workers is JSON
            assert {"level", "message"} <= set(record), line
            for key in ids:
                ids[key] += key in record
    assert ids["request_id"] > 10 and ids["job_id"] >= 1, ids


def test_backup_destroy_restore_and_the_history_is_back(browser: Browser, tmp_path: Path) -> None:
    [[email, session_id]] = sql(
        "SELECT u.email, s.id FROM agent_sessions s JOIN users u ON u.id = s.user_id "
        "ORDER BY s.created_at LIMIT 1"
    )
    messages_before = sql("SELECT count(*) FROM messages")
    backup("backup", tmp_path)
    compose("down", "-v")  # every volume gone: database, workspaces, Redis
    backup("restore", tmp_path)
    compose("up", "-d", "--wait", *SCALE, timeout=900)
    assert sql("SELECT count(*) FROM messages") == messages_before

    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(PUBLIC_URL)
    page.get_by_role("button", name=re.compile("^Continue with")).click()
    page.locator("#username").fill(email)
    page.locator("#password").fill(USER_PASSWORD)
    page.locator("#kc-login").click()
    page.goto(f"{PUBLIC_URL}/s/{session_id}")
    expect(page.get_by_text("run wc -l notes/todo.md").first).to_be_visible(timeout=60_000)
    context.close()


def backup(action: str, folder: Path) -> None:
    """The documented procedure (docs/operations.md), with the test override's files."""
    env = {**docker_env(), "COMPOSE_ARGS": " ".join(FILES)}
    subprocess.run(
        ["bash", "scripts/backup.sh", action, str(folder)], cwd=ROOT, env=env, check=True
    )

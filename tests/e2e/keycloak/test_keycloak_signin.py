"""Sign-in through the real Keycloak login page, roles, refresh, disabling and logout."""

from __future__ import annotations

import itertools
import re
import sqlite3
import time

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    TIMEOUT,
    expect_signed_in,
    new_session,
    send_and_wait,
    sign_in_through_keycloak,
)
from tests.e2e.keycloak.conftest import KeycloakApp
from tests.keycloak_server import ACCESS_TOKEN_SECONDS, USER_PASSWORD

_numbers = itertools.count(1)


def unique_email(name: str) -> str:
    return f"{name}{next(_numbers)}-{int(time.time())}@example.com"


def sign_in_at_keycloak(page: Page, env: KeycloakApp, email: str) -> None:
    """From anywhere in the app: our sign-in page, Keycloak's form, back in the app."""
    sign_in_through_keycloak(page, env.url, env.keycloak.base_url, email, USER_PASSWORD)


def test_plain_user_signs_in_through_keycloak(browser: Browser, keycloak_app: KeycloakApp) -> None:
    email = unique_email("plain")
    keycloak_app.keycloak.create_user(email)
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, email)
    assert page.url.startswith(keycloak_app.url)
    context.close()


def access_expiry(env: KeycloakApp) -> list[str]:
    with sqlite3.connect(env.app.data_dir / "compymac.db") as db:
        rows = db.execute(
            "SELECT access_expires_at FROM auth_sessions WHERE provider = 'keycloak' "
            "AND revoked_at IS NULL ORDER BY created_at"
        ).fetchall()
    return [row[0] for row in rows]


def test_required_role_missing_means_no_entry_with_a_reason(
    browser: Browser, keycloak_app: KeycloakApp
) -> None:
    kc = keycloak_app.keycloak
    email = unique_email("norole")
    user_id = kc.create_user(email)
    default_roles = kc.admin("GET", "/roles/default-roles-compymac").json()
    kc.admin("DELETE", f"/users/{user_id}/role-mappings/realm", [default_roles])
    context = browser.new_context()
    page = context.new_page()
    page.goto(keycloak_app.url)
    page.get_by_role("button", name="Continue with Keycloak").click()
    page.locator("#username").fill(email)
    page.locator("#password").fill(USER_PASSWORD)
    page.locator("#kc-login").click()
    expect(page.get_by_role("alert")).to_contain_text("lacks the 'user' role", timeout=TIMEOUT)
    assert "/signin" in page.url
    page.goto(keycloak_app.url)
    expect(page.get_by_role("button", name="Continue with Keycloak")).to_be_visible(timeout=TIMEOUT)
    context.close()


def test_logout_ends_the_keycloak_session_and_asks_for_credentials_again(
    browser: Browser, keycloak_app: KeycloakApp
) -> None:
    email = unique_email("leaver")
    keycloak_app.keycloak.create_user(email)
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, email)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    assert page.url.startswith(keycloak_app.url)
    page.get_by_role("button", name="Continue with Keycloak").click()
    # Keycloak's own session ended too: its login form asks again (no silent SSO bounce).
    expect(page.locator("#password")).to_be_visible(timeout=TIMEOUT)
    assert page.url.startswith(keycloak_app.keycloak.base_url)
    page.goto(keycloak_app.url)
    page.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    context.close()


def test_logging_a_user_out_in_keycloak_ends_the_app_session_at_once(
    browser: Browser, keycloak_app: KeycloakApp
) -> None:
    email = unique_email("backchannel")
    user_id = keycloak_app.keycloak.create_user(email)
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, email)
    new_session(page)
    keycloak_app.keycloak.logout_user(user_id)  # back-channel logout to the app
    page.get_by_role("button", name="New session", exact=True).click()
    page.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    expect(page.get_by_role("alert")).to_contain_text("session has ended", timeout=TIMEOUT)
    context.close()


def test_disabling_a_user_in_keycloak_ends_the_app_session_on_the_next_action(
    browser: Browser, keycloak_app: KeycloakApp
) -> None:
    email = unique_email("disabled")
    user_id = keycloak_app.keycloak.create_user(email)
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, email)
    new_session(page)
    keycloak_app.keycloak.set_enabled(user_id, False)
    # At the latest when the access token is due for refresh, Keycloak refuses the refresh.
    page.wait_for_timeout(ACCESS_TOKEN_SECONDS * 1000)
    page.get_by_role("button", name="New session", exact=True).click()
    page.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    assert access_expiry(keycloak_app) is not None
    context.close()


def test_refresh_keeps_the_user_in_and_rereads_roles(
    browser: Browser, keycloak_app: KeycloakApp
) -> None:
    kc = keycloak_app.keycloak
    email = unique_email("refresher")
    user_id = kc.create_user(email)
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, email)
    visits: list[str] = []
    page.on("framenavigated", lambda frame: visits.append(frame.url))
    new_session(page)
    first = access_expiry(keycloak_app)
    # Admin granted in Keycloak while signed in: the next refresh must pick it up.
    role = kc.admin("GET", "/roles/admin").json()
    kc.admin("POST", f"/users/{user_id}/role-mappings/realm", [role])
    for _ in range(3):  # > 2 access-token lifetimes, one action each ~lifetime
        page.wait_for_timeout((ACCESS_TOKEN_SECONDS - 2) * 1000)
        send_and_wait(page, "help")
    expect_signed_in(page, email)
    assert not any(url.startswith(kc.base_url) for url in visits), visits
    assert access_expiry(keycloak_app) != first
    expect(page.get_by_role("link", name="Users")).to_be_visible(timeout=TIMEOUT)
    context.close()

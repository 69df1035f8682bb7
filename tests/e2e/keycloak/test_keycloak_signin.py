"""Sign-in through the real Keycloak login page, roles, refresh, disabling and logout."""

from __future__ import annotations

import itertools
import re
import sqlite3
import time

from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import TIMEOUT, new_session, send_and_wait
from tests.e2e.keycloak.conftest import ACCESS_TOKEN_SECONDS, KeycloakApp
from tests.keycloak_server import USER_PASSWORD

_numbers = itertools.count(1)


def unique_email(name: str) -> str:
    return f"{name}{next(_numbers)}-{int(time.time())}@example.com"


def sign_in_at_keycloak(page: Page, env: KeycloakApp, email: str) -> None:
    """From anywhere in the app: our sign-in page, Keycloak's form, back in the app."""
    page.goto(env.url)
    page.get_by_role("button", name="Continue with Keycloak").click()
    page.wait_for_url(re.compile(re.escape(env.keycloak.base_url)), timeout=TIMEOUT)
    page.locator("#username").fill(email)
    page.locator("#password").fill(USER_PASSWORD)
    page.locator("#kc-login").click()
    expect_signed_in(page, email)


def expect_signed_in(page: Page, email: str) -> None:
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached(
        timeout=TIMEOUT
    )
    expect(page.get_by_text(email)).to_be_attached()


def test_plain_user_signs_in_through_keycloak(browser: Browser, keycloak_app: KeycloakApp) -> None:
    email = unique_email("plain")
    keycloak_app.keycloak.create_user(email)
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, email)
    assert page.url.startswith(keycloak_app.url)
    context.close()

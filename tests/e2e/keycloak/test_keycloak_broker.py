"""Brokered login, proven without Google: a second realm on the same Keycloak plays the
upstream OpenID provider, configured in the app's realm the way keycloak/realm.json configures
Google (an identity provider with its client, trusted email, the first-broker-login flow). A
person signs in through it, lands in the app linked by (issuer, subject), and a second sign-in
reuses the same app account."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import TIMEOUT, expect_signed_in
from tests.e2e.keycloak.conftest import KeycloakApp
from tests.e2e.keycloak.test_keycloak_flows import open_keycloak_form, sign_out
from tests.e2e.keycloak.test_keycloak_signin import unique_email
from tests.keycloak_server import REALM, USER_PASSWORD, realm_admin

UPSTREAM = "upstream"
UPSTREAM_NAME = "Upstream ID"
BROKER_CLIENT = "compymac-broker"


@dataclass
class Upstream:
    email: str
    subject: str  # the person's id at the upstream provider


@pytest.fixture(scope="module")
def upstream(keycloak_app: KeycloakApp) -> Iterator[Upstream]:
    kc = keycloak_app.keycloak
    upstream_issuer = f"{kc.base_url}/realms/{UPSTREAM}"
    oidc = f"{upstream_issuer}/protocol/openid-connect"
    secret = "broker-client-secret"
    master = realm_admin(kc)
    master.create_realm({"realm": UPSTREAM, "enabled": True, "sslRequired": "none"})
    admin = realm_admin(kc, UPSTREAM)
    admin.create_client(
        {
            "clientId": BROKER_CLIENT,
            "enabled": True,
            "publicClient": False,
            "secret": secret,
            "standardFlowEnabled": True,
            "redirectUris": [f"{kc.base_url}/realms/{REALM}/broker/{UPSTREAM}/endpoint"],
        }
    )
    email = unique_email("brokered")
    subject = admin.create_user(
        {
            "username": email.split("@")[0],
            "email": email,
            "emailVerified": True,
            "enabled": True,
            "firstName": "Bro",
            "lastName": "Kered",
            "credentials": [{"type": "password", "value": USER_PASSWORD, "temporary": False}],
        }
    )
    app_realm = realm_admin(kc)
    # The same shape as the google/microsoft/apple entries of keycloak/realm.json.
    app_realm.create_idp(
        {
            "alias": UPSTREAM,
            "displayName": UPSTREAM_NAME,
            "providerId": "oidc",
            "enabled": True,
            "trustEmail": True,
            "firstBrokerLoginFlowAlias": "first broker login",
            "config": {
                "clientId": BROKER_CLIENT,
                "clientSecret": secret,
                "clientAuthMethod": "client_secret_post",
                "issuer": upstream_issuer,
                "authorizationUrl": f"{oidc}/auth",
                "tokenUrl": f"{oidc}/token",
                "userInfoUrl": f"{oidc}/userinfo",
                "jwksUrl": f"{oidc}/certs",
                "useJwksUrl": "true",
                "validateSignature": "true",
                "pkceEnabled": "true",
                "pkceMethod": "S256",
                "defaultScope": "openid email profile",
                "syncMode": "IMPORT",
            },
        }
    )
    try:
        yield Upstream(email, subject)
    finally:
        app_realm.delete_idp(UPSTREAM)
        master.delete_realm(UPSTREAM)


def sign_in_upstream(page: Page, env: KeycloakApp, who: Upstream) -> None:
    open_keycloak_form(page, env)
    page.get_by_role("link", name=UPSTREAM_NAME).click()
    page.wait_for_url(re.compile(re.escape(f"/realms/{UPSTREAM}/")), timeout=TIMEOUT)
    page.locator("#username").fill(who.email)
    page.locator("#password").fill(USER_PASSWORD)
    page.locator("#kc-login").click()
    expect_signed_in(page, who.email)


def app_rows(env: KeycloakApp, email: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The app's users with this email, and the identities of those users."""
    with sqlite3.connect(env.app.data_dir / "compymac.db") as db:
        users = [r[0] for r in db.execute("SELECT id FROM users WHERE email = ?", (email,))]
        identities = db.execute(
            "SELECT user_id, issuer, subject FROM identities WHERE user_id IN "
            "(SELECT id FROM users WHERE email = ?)",
            (email,),
        ).fetchall()
    return users, identities


def test_brokered_sign_in_links_the_account_and_reuses_it(
    browser: Browser, keycloak_app: KeycloakApp, upstream: Upstream
) -> None:
    kc = keycloak_app.keycloak
    context = browser.new_context()
    page = context.new_page()
    open_keycloak_form(page, keycloak_app)
    expect(page.get_by_role("link", name=UPSTREAM_NAME)).to_be_visible(timeout=TIMEOUT)
    sign_in_upstream(page, keycloak_app, upstream)

    # Keycloak made its own user for the person, linked to the upstream subject...
    app_realm = realm_admin(kc)
    [broker_user] = app_realm.get_users({"email": upstream.email, "exact": True})
    links = kc.admin("GET", f"/users/{broker_user['id']}/federated-identity").json()
    assert [(link["identityProvider"], link["userId"]) for link in links] == [
        (UPSTREAM, upstream.subject)
    ]
    # ...and the app linked that user by (issuer, subject): the app's realm is its issuer.
    [user_id], identities = app_rows(keycloak_app, upstream.email)
    assert identities == [(user_id, kc.issuer, broker_user["id"])]

    # A second sign-in, all cookies gone (both realms ask again), is the same app account.
    sign_out(page)
    context.clear_cookies()
    sign_in_upstream(page, keycloak_app, upstream)
    assert app_rows(keycloak_app, upstream.email) == ([user_id], identities)
    assert len(app_realm.get_users({"email": upstream.email, "exact": True})) == 1
    context.close()


def test_realm_file_brokers_are_there_and_off_by_default(keycloak_app: KeycloakApp) -> None:
    """Google, GitHub, Microsoft and Apple as keycloak/realm.json imports them (no settings):
    present, disabled, each with its provider type."""
    idps = {idp["alias"]: idp for idp in realm_admin(keycloak_app.keycloak).get_idps()}
    expected = {"google": "google", "github": "github", "microsoft": "microsoft", "apple": "oidc"}
    assert {alias: idps[alias]["providerId"] for alias in expected} == expected
    assert not any(idps[alias]["enabled"] for alias in expected)
    apple = idps["apple"]["config"]
    assert apple["issuer"] == "https://appleid.apple.com"
    assert apple["authorizationUrl"] == "https://appleid.apple.com/auth/authorize"

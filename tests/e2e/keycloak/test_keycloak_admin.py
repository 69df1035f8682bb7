"""The admin page with Keycloak: only admins, checked on the server for every handler."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Browser, expect

from compymac_rx.state.admin import AdminState
from tests.e2e.helpers import TIMEOUT, new_session
from tests.e2e.keycloak.conftest import KeycloakApp
from tests.e2e.keycloak.test_keycloak_signin import sign_in_at_keycloak, unique_email
from tests.e2e.test_isolation import CAPTURE_FRAMES, FRAME_PREFIX, forge


def test_plain_user_cannot_reach_the_admin_page_nor_its_handlers(
    browser: Browser, keycloak_app: KeycloakApp
) -> None:
    kc = keycloak_app.keycloak
    target_email = unique_email("target")
    target_id = kc.create_user(target_email, admin=True)
    email = unique_email("plain")
    kc.create_user(email)
    context = browser.new_context()
    context.add_init_script(CAPTURE_FRAMES)
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, email)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    page.goto(f"{keycloak_app.url}/admin")
    expect(page.get_by_role("alert")).to_contain_text("for administrators", timeout=TIMEOUT)
    expect(page.get_by_test_id("admin-user-row")).to_have_count(0)

    # A real event frame of this user's tab is the template; its name is pointed at the
    # admin handlers (which the page never offered this user).
    page.goto(keycloak_app.url)
    new_session(page)
    page.wait_for_function("window.__frames.some(f => f.includes('new_session'))")
    frame = next(f for f in page.evaluate("window.__frames") if "new_session" in f)
    prefix = FRAME_PREFIX.match(frame)
    assert prefix is not None
    own = {"prefix": prefix.group(0), **json.loads(frame[prefix.end() :])[1]}
    template = {**own, "name": f"{AdminState.get_full_name()}.load"}
    forge(page, template, "ask", {"action": "disable", "ref": target_id, "email": "x"})
    forge(page, template, "confirm", {})
    forge(page, template, "ask", {"action": "revoke", "ref": target_id, "email": "x"})
    forge(page, template, "confirm", {})
    expect(page.get_by_test_id("admin-user-row")).to_have_count(0)
    # The positive control: a forged frame this user may send (the template's own handler)
    # does act, so the refusals above are not frames the server never read. One tab's events
    # run in order, so once it has, the forged admin events have been handled too.
    before = page.url
    forge(page, own, "new_session", {})
    page.wait_for_url(
        lambda url: url != before and re.search(r"/s/[0-9a-f]{32}$", url) is not None,
        timeout=TIMEOUT,
    )
    target = kc.admin("GET", f"/users/{target_id}").json()
    assert target["enabled"] is True
    roles = kc.admin("GET", f"/users/{target_id}/role-mappings/realm").json()
    assert "admin" in {role["name"] for role in roles}
    context.close()


def test_admin_manages_users_and_a_disabled_user_is_put_out(
    browser: Browser, keycloak_app: KeycloakApp
) -> None:
    kc = keycloak_app.keycloak
    admin_email, victim_email = unique_email("boss"), unique_email("victim")
    kc.create_user(admin_email, admin=True)
    victim_id = kc.create_user(victim_email)

    victim_context = browser.new_context()
    victim = victim_context.new_page()
    sign_in_at_keycloak(victim, keycloak_app, victim_email)

    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, keycloak_app, admin_email)
    page.get_by_role("link", name="Users").click()
    page.wait_for_url(re.compile(r"/admin$"), timeout=TIMEOUT)
    expect(page.get_by_role("link", name="Keycloak admin console")).to_be_visible()
    row = page.get_by_test_id("admin-user-row").filter(has_text=victim_email)
    expect(row).to_contain_text("active", timeout=TIMEOUT)
    # No buttons against oneself (no lock-out by accident).
    own = page.get_by_test_id("admin-user-row").filter(has_text=admin_email)
    expect(own.get_by_role("button", name=f"Disable {admin_email}")).to_be_disabled()

    row.get_by_role("button", name=f"Make admin {victim_email}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Make admin").click()
    # The row's own button flips once the change is through (its text says "admin" anyway).
    expect(row.get_by_role("button", name=f"Remove admin {victim_email}")).to_be_visible(
        timeout=TIMEOUT
    )
    roles = kc.admin("GET", f"/users/{victim_id}/role-mappings/realm").json()
    assert "admin" in {role["name"] for role in roles}

    row.get_by_role("button", name=f"Disable {victim_email}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Disable").click()
    expect(row.get_by_role("button", name=f"Enable {victim_email}")).to_be_visible(timeout=TIMEOUT)
    expect(row).to_contain_text("disabled")
    assert kc.admin("GET", f"/users/{victim_id}").json()["enabled"] is False

    victim.get_by_role("button", name="New session", exact=True).click()
    victim.wait_for_url(re.compile(r"/signin"), timeout=TIMEOUT)
    victim_context.close()
    context.close()

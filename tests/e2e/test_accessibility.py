"""Every page passes an axe-core audit (no serious or critical violation), in both themes.

Pages: sign-in, sign-up, home, a session with messages (code block, tool card, trace),
settings, account and admin. The theme is the user's stored choice (as a new browser gets
it) and, for the signed-out pages, the browser's saved one.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, new_session, send_and_wait, sign_up, unique_email

BLOCKING = ("serious", "critical")
AXE = Axe()


def _audit(page: Page, name: str, theme: str) -> list[str]:
    """What axe finds serious or critical on the page, one line per rule and element."""
    expect(page.locator("html")).to_have_class(re.compile(rf"\b{theme}\b"), timeout=TIMEOUT)
    # Let Radix's fade-ins finish: axe measures contrast on what is painted.
    page.wait_for_timeout(400)
    results: dict[str, Any] = AXE.run(page).response
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            line = (
                f"{name} [{theme}] {violation['id']} ({violation['impact']}): "
                f"{node['target']} {node.get('failureSummary', '')}"
            )
            print(line)  # pytest shows the whole text on failure; the assertion cuts it
            found.append(line)
    return found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_passes_axe(browser: Browser, app_server: RunningApp, theme: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # The signed-out pages follow the browser's saved mode (Reflex's localStorage key).
    context.add_init_script(f'localStorage.setItem("theme", "{theme}");')
    page = context.new_page()
    found: list[str] = []

    page.goto(f"{app_server.url}/signin")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=TIMEOUT)
    found += _audit(page, "sign-in", theme)
    page.goto(f"{app_server.url}/signup")
    expect(page.get_by_role("button", name="Create account")).to_be_visible(timeout=TIMEOUT)
    found += _audit(page, "sign-up", theme)

    email = unique_email(f"axe{theme}")
    sign_up(page, app_server, email)
    with sqlite3.connect(app_server.data_dir / "compymac.db") as db:
        db.execute("UPDATE users SET is_admin = 1, color_mode = ? WHERE email = ?", (theme, email))
    time.sleep(1.2)  # changed behind the app's back: its user cache (1 s here) must expire

    page.goto(app_server.url)
    expect(page.get_by_test_id("empty-state")).to_be_visible(timeout=TIMEOUT)
    found += _audit(page, "home", theme)

    new_session(page)
    send_and_wait(page, "write hello.py\n```python\nprint('hello')\n```")
    send_and_wait(page, "ls")
    found += _audit(page, "session", theme)

    page.goto(f"{app_server.url}/settings")
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible(timeout=TIMEOUT)
    found += _audit(page, "settings", theme)

    page.goto(f"{app_server.url}/account")
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible(timeout=TIMEOUT)
    found += _audit(page, "account", theme)

    page.goto(f"{app_server.url}/admin")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible(timeout=TIMEOUT)
    found += _audit(page, "admin", theme)
    context.close()
    assert not found, f"{len(found)} serious or critical axe finding(s):\n" + "\n".join(found)

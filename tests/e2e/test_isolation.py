"""A signed-in user who forges WebSocket events with another user's session id gets nothing.

The browser only ever sends ids as requests: every handler checks them against the user the
HttpOnly cookie resolves to. Here Bob's own page sends hand-made events naming Alice's session.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Browser, Page, expect

from compymac_rx.chats import service as chats
from tests.conftest import clear_caches
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import TIMEOUT, new_session, send, sign_up, unique_email

CAPTURE_FRAMES = """
window.__frames = [];
const originalSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  window.__socket = this;
  if (typeof data === 'string' && data.startsWith('42')) window.__frames.push(data);
  return originalSend.call(this, data);
};
"""


# socket.io EVENT packet: "42", the namespace, then an optional ack id.
FRAME_PREFIX = re.compile(r"^42(/[^,\[]*,)?\d*")


def forge(page: Page, template: dict, handler: str, payload: dict) -> None:
    event = {k: v for k, v in template.items() if k != "prefix"}
    event["name"] = re.sub(r"\.[a-z_]+$", f".{handler}", template["name"])
    event["payload"] = payload
    frame = template["prefix"] + json.dumps(["event", event])
    page.evaluate("frame => window.__socket.send(frame)", frame)
    page.wait_for_timeout(400)


def test_forged_events_cannot_touch_another_users_session(
    browser: Browser, app_server: RunningApp, monkeypatch
) -> None:
    alice_context = browser.new_context()
    alice = alice_context.new_page()
    sign_up(alice, app_server, unique_email("alice"))
    alice_session = new_session(alice)
    send(alice, "run echo private")
    expect(alice.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)

    bob_context = browser.new_context()
    bob_context.add_init_script(CAPTURE_FRAMES)
    bob = bob_context.new_page()
    sign_up(bob, app_server, unique_email("bob"))
    new_session(bob)
    bob.get_by_role("button", name="Show archived").click()
    bob.wait_for_function("window.__frames.some(f => f.includes('toggle_archived_view'))")
    frame = next(f for f in bob.evaluate("window.__frames") if "toggle_archived_view" in f)
    prefix = FRAME_PREFIX.match(frame)
    assert prefix is not None
    template = {"prefix": prefix.group(0), **json.loads(frame[prefix.end() :])[1]}

    forge(bob, template, "set_archived", {"session_id": alice_session, "archived": True})
    forge(bob, template, "start_rename", {"session_id": alice_session, "title": "x"})
    forge(bob, template, "set_rename_title", {"value": "owned by bob"})
    forge(bob, template, "save_rename", {})
    forge(bob, template, "ask_delete", {"session_id": alice_session, "title": "x"})
    forge(bob, template, "confirm_delete", {})
    expect(bob.get_by_text("does not exist or is not yours").first).to_be_visible()

    # Chat handlers (send, stop, load_older) take no id at all: they act on the session the
    # server opened after checking its owner in load_page.
    monkeypatch.setenv("DATA_DIR", str(app_server.data_dir))
    clear_caches()
    alice_id = alice_session_owner(alice_session)
    found = chats.get_session(alice_id, alice_session)
    assert found is not None
    assert not found.archived and found.title == "run echo private"
    assert [m.role for m in chats.load_messages(alice_id, alice_session)] == [
        "user",
        "tool",
        "assistant",
    ]
    alice.reload()
    expect(alice.get_by_text("private").first).to_be_visible(timeout=TIMEOUT)
    alice_context.close()
    bob_context.close()


def alice_session_owner(session_id: str) -> str:
    from sqlmodel import select

    from compymac_rx.chats.models import AgentSession
    from compymac_rx.db import session_scope

    with session_scope() as db:
        row = db.exec(select(AgentSession).where(AgentSession.id == session_id)).one()
        return row.user_id

"""Untrusted text is text: an XSS corpus through every way content reaches the page.

The corpus goes in as a user message, as streamed model output (the local fake provider), as
tool output (the builtin agent's `run`) and as files previewed in the panel. Every payload
would, if it ran, set `top.__pwned` and request `/pwned/<name>`; the test watches the page
flag, every request of the browser context, dialogs, and the DOM (also while a reply streams)
for elements and attributes markdown must never produce.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from compymac_rx.state.files import UPLOAD_ID
from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import (
    TIMEOUT,
    conversation,
    new_session,
    send,
    send_and_wait,
    sign_up,
    unique_email,
)
from tests.fake_openai import FakeOpenAI, Reply


def hit(name: str) -> str:
    return f"top.__pwned='{name}';fetch('/pwned/{name}')"


# Each entry is its own markdown block (HTML blocks and inline HTML parse differently).
PAYLOADS = [
    f'<img src=x onerror="{hit("img-onerror")}">',
    f"<script>{hit('script')}</script>",
    f"[click me](javascript:{hit('md-link')})",
    f"[CLICK](JaVaScRiPt:{hit('md-link-case')})",
    f"[tab](java&#x09;script:{hit('md-link-entity')})",
    f"<javascript:{hit('autolink')}>",
    f"[ref link][evil]\n\n[evil]: javascript:{hit('ref-link')}",
    f"![image](javascript:{hit('md-image')})",
    "![tracker](https://evil.example/pwned/tracker.png)",
    "![protocol relative](//evil.example/pwned/relative.png)",
    f'<svg onload="{hit("svg-onload")}"><script>{hit("svg-script")}</script></svg>',
    f'<iframe srcdoc="<script>{hit("srcdoc")}</script>"></iframe>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=/pwned/meta-refresh">',
    "<style>body { background: url(/pwned/style) }</style>",
    "[data link](data:text/html;base64,PHNjcmlwdD50b3AuX19wd25lZD0nZGF0YSc8L3NjcmlwdD4=)",
    f'<a href="javascript:{hit("html-a")}">html link</a>',
    f'<details open ontoggle="{hit("details")}"><summary>x</summary></details>',
    '<object data="/pwned/object"></object><embed src="/pwned/embed">',
    f'<form action="javascript:{hit("form")}"><button>go</button></form>',
    f'inline <img src=x onerror="{hit("inline-img")}"> and <b onmouseover="{hit("b")}">b</b>',
]
CORPUS = "\n\n".join(PAYLOADS) + "\n\n[a fine link](https://example.com/ok)"
HTML_FILE = "\n".join(PAYLOADS[:2] + PAYLOADS[10:14] + PAYLOADS[16:20])
SVG_FILE = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="top.__pwned=1">'
    f"<script>{hit('svg-file')}</script></svg>"
)

# Watches the page from before its first script: the flag, and anything dangerous that
# appears in the conversation or the file panel, even for a moment while a reply streams.
WATCH = """
window.__forbidden = [];
const FORBIDDEN = 'script,iframe,frame,object,embed,base,meta,style,link,form,math';
function inspect(root) {
  const found = [];
  const all = [root, ...root.querySelectorAll('*')];
  for (const el of all) {
    if (!(el instanceof Element)) continue;
    const tag = el.tagName.toLowerCase();
    if (el.matches(FORBIDDEN)) found.push(tag);
    if (tag === 'svg' && el.querySelector('script,foreignObject')) found.push('svg-script');
    for (const a of el.attributes) {
      if (a.name.startsWith('on') || a.name === 'srcdoc') found.push(tag + '[' + a.name + ']');
    }
    if (tag === 'a' && el.hasAttribute('href')) {
      const url = new URL(el.href);
      if (!['http:', 'https:', 'mailto:'].includes(url.protocol)) found.push('a:' + el.href);
      const away = url.origin !== location.origin;
      if (away && el.rel !== 'noopener noreferrer') found.push('a-rel:' + el.href);
    }
    if (tag === 'img' && el.hasAttribute('src')) {
      const url = new URL(el.src);
      if (url.origin !== location.origin && url.protocol !== 'data:') found.push('img:' + el.src);
    }
  }
  return found;
}
window.__inspect = inspect;
new MutationObserver((records) => {
  for (const r of records) for (const node of r.addedNodes) {
    if (!(node instanceof Element)) continue;
    const inside = node.closest('[data-testid=conversation],[data-testid=file-preview]');
    if (inside) window.__forbidden.push(...inspect(node));
  }
}).observe(document, {childList: true, subtree: true});
"""


@dataclass
class Watched:
    page: Page
    context: BrowserContext
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def assert_nothing_ran(self, *containers: str) -> None:
        page = self.page
        page.wait_for_timeout(1500)  # give an onerror / refresh / fetch the time to happen
        assert page.evaluate("window.__pwned") is None
        assert [u for u in self.requests if "pwned" in u or "evil.example" in u] == []
        assert self.dialogs == []
        assert [m for m in self.console if "pwned" in m] == []
        assert page.evaluate("window.__forbidden") == []
        for test_id in containers:
            found = page.evaluate(
                "(id) => window.__inspect(document.querySelector(`[data-testid=${id}]`))",
                test_id,
            )
            assert found == [], (test_id, found)
        # Nothing reached the document head either: no <base>, no refresh.
        assert page.evaluate("document.querySelectorAll('base, meta[http-equiv]').length") == 0
        assert page.evaluate("document.baseURI") == page.url


@pytest.fixture
def watched(browser: Browser, app_server: RunningApp) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(WATCH)
    page = context.new_page()
    w = Watched(page, context)
    context.on("request", lambda request: w.requests.append(request.url))
    page.on("dialog", lambda dialog: (w.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: w.console.append(message.text))
    sign_up(page, app_server, unique_email("xss"))
    new_session(page)
    yield w
    context.close()


def test_a_user_message_is_shown_as_text(watched: Watched) -> None:
    page = watched.page
    send_and_wait(page, CORPUS)
    bubble = conversation(page).locator(".bubble.user")
    # The markup is there, as characters on the screen.
    expect(bubble).to_contain_text("<iframe srcdoc=")
    expect(bubble).to_contain_text("<script>top.__pwned='script'")
    expect(bubble).to_contain_text('<meta http-equiv="refresh"')
    # Markdown still works: the safe link is a link, the javascript: ones have no href.
    expect(bubble.locator("a[href='https://example.com/ok']")).to_have_count(1)
    expect(bubble.get_by_text("click me")).to_be_visible()
    bubble.get_by_text("click me").click()
    bubble.get_by_text("CLICK", exact=True).click()
    watched.assert_nothing_ran("conversation")


def test_model_output_is_shown_as_text(
    watched: Watched, app_server: RunningApp, fake_openai: FakeOpenAI
) -> None:
    page = watched.page
    page.goto(f"{app_server.url}/settings")
    page.get_by_label("API key").fill("sk-e2e-good-key-abcd")
    page.get_by_role("button", name="Check and save key").click()
    expect(page.get_by_test_id("key-result")).to_contain_text("saved", timeout=TIMEOUT)
    page.goto(app_server.url)
    new_session(page)
    page.get_by_label("Model for this session").click()
    page.get_by_role("option", name="OpenAI: fake-small").click()
    # Streamed in small pieces, so half-written tags pass through the live reply too.
    pieces = [CORPUS[i : i + 40] for i in range(0, len(CORPUS), 40)]
    fake_openai.script(Reply(text=pieces, chunk_delay=0.02))
    send(page, "say something nasty")
    expect(page.get_by_test_id("live-reply")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("job-status")).to_contain_text("done", timeout=TIMEOUT)
    reply = conversation(page).locator(".bubble.assistant").last
    expect(reply).to_contain_text("<iframe srcdoc=")
    expect(reply.locator("a[href='https://example.com/ok']")).to_have_count(1)
    watched.assert_nothing_ran("conversation")


def test_tool_output_is_shown_as_text(watched: Watched) -> None:
    page = watched.page
    # Single-quoted for the shell, so these payloads use only double quotes.
    printed = [
        '<img src=x onerror="top.__pwned=1">',
        '<iframe srcdoc="<script>top.__pwned=2</script>"></iframe>',
        "[x](javascript:top.__pwned=3)",
        "<svg onload=top.__pwned=4>",
    ]
    send_and_wait(page, "run printf '%s\\n' " + " ".join(f"'{p}'" for p in printed))
    card = page.get_by_test_id("tool-card")
    card.locator("summary").click()
    expect(card.locator("pre")).to_contain_text("<img src=x onerror=")
    expect(card.locator("pre")).to_contain_text("<iframe srcdoc=")
    watched.assert_nothing_ran("conversation")


def test_previewed_files_are_shown_as_text(
    watched: Watched, app_server: RunningApp, tmp_path: Path
) -> None:
    page = watched.page
    session_id = page.url.rsplit("/", 1)[-1]
    files = {"evil.md": CORPUS, "evil.html": HTML_FILE, "evil.svg": SVG_FILE}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    page.get_by_role("button", name="Show the workspace files").click()
    page.locator(f"#{UPLOAD_ID} input[type=file]").set_input_files(
        [str(tmp_path / name) for name in files]
    )
    page.get_by_role("button", name="Upload the chosen files").click()
    expect(page.get_by_test_id("file-notice")).to_contain_text("Uploaded", timeout=TIMEOUT)
    preview = page.get_by_test_id("file-preview")
    for name in files:
        page.get_by_label(f"Preview {name}").click()
        expect(preview).to_contain_text(name, timeout=TIMEOUT)
        expect(preview).to_contain_text("<script>", timeout=TIMEOUT)
        watched.assert_nothing_ran("file-preview")
    # The builtin agent shows a file's content in the chat too.
    send_and_wait(page, "cat evil.md")
    expect(conversation(page).locator(".bubble.assistant").last).to_contain_text("<iframe")
    watched.assert_nothing_ran("conversation", "file-preview")
    # Fetched directly, a file is an attachment with a sandboxing policy, never a page.
    response = watched.context.request.get(f"{app_server.url}/files/{session_id}/evil.html")
    assert response.status == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"

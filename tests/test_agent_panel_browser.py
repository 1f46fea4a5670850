"""The agent panel in a real headless Chromium, embedded as Chatwoot embeds a dashboard app.

A harness page on another origin (a second local server, another port) frames the panel's
URL and answers it like Chatwoot: it posts ``appContext`` as a JSON string when the frame
loads and whenever the panel asks with ``chatwoot-dashboard-app:fetch-info``.  The
conversation is Arabic.  A third origin that the panel link does not list is refused the frame.
Screenshots go to ``test-output/agent-panel/``.
"""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_support import CHROMIUM
from browser_support import MISSING
from browser_support import launched
from browser_support import screenshot_folder
from browser_support import serving
from conftest import make_settings

from kb import panel_links

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(MISSING, allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

PANEL_WIDTH = 360
# A Chatwoot conversation payload (webhook documentation's shape): message_type 0 is the
# contact, 1 an agent, 2 an activity; "private" is an agent's note.  Oldest first.
CONVERSATION = {
    "id": 4711,
    "inbox_id": 2,
    "status": "open",
    "messages": [
        {"id": 1, "content": "السلام عليكم", "message_type": 0, "private": False, "created_at": 1764930000,
         "sender": {"type": "contact", "name": "سارة"}},
        {"id": 2, "content": "وعليكم السلام، كيف أساعدك؟", "message_type": 1, "private": False,
         "created_at": 1764930030, "sender": {"type": "user", "name": "أحمد"}},
        {"id": 3, "content": "Conversation was assigned to أحمد", "message_type": 2, "private": False,
         "created_at": 1764930031},
        {"id": 4, "content": "العميلة غاضبة جدًا، انتبه", "message_type": 1, "private": True, "created_at": 1764930040},
        {"id": 5, "content": "أنا غاضبة جدًا! طلبي رقم 12345 تأخر أسبوعًا ولا أحد يرد عليّ",
         "message_type": 0, "private": False, "created_at": 1764930060, "sender": {"type": "contact", "name": "سارة"}},
    ],
}
CONTACT = {"id": 99, "name": "سارة", "email": "sara@example.com", "phone_number": "+966500000000"}
AGENT = {"id": 7, "name": "أحمد", "email": "ahmed@example.com"}
NEW_MESSAGE = {"id": 6, "content": "وكيف أقدم شكوى رسمية ضد موظف خدمة العملاء؟", "message_type": 0, "private": False,
               "created_at": 1764930120, "sender": {"type": "contact", "name": "سارة"}}

HARNESS = """<!doctype html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>Chatwoot harness</title>
<style>body { margin: 0; display: flex; } main { flex: 1; } iframe { width: %(width)dpx; height: 880px; border: 0; }</style>
</head><body><main><h1>Conversation</h1></main>
<iframe id="panel" src="%(src)s" allow="clipboard-write"></iframe>
<script>
  var PANEL_ORIGIN = %(panel_origin)s;
  window.appContext = %(context)s;
  window.fetchRequests = 0;
  window.sendContext = function () {
    document.getElementById("panel").contentWindow.postMessage(
      JSON.stringify({event: "appContext", data: window.appContext}), PANEL_ORIGIN);
  };
  window.sendHost = function (payload) {
    document.getElementById("panel").contentWindow.postMessage(payload, PANEL_ORIGIN);
  };
  document.getElementById("panel").addEventListener("load", window.sendContext);
  window.addEventListener("message", function (event) {
    if (event.origin === PANEL_ORIGIN && event.data === "chatwoot-dashboard-app:fetch-info") {
      window.fetchRequests += 1;
      if (!window.hold) window.sendContext();
    }
  });
</script></body></html>
"""


@pytest.fixture(scope="module")
def live_app(session_kb, tmp_path_factory):
    from kb.web import create_app

    settings = make_settings(tmp_path_factory.mktemp("agent-browser")).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    return create_app(settings, knowledge=session_kb)


@pytest.fixture(scope="module")
def panel_base(live_app):
    with serving(live_app) as url:
        yield url


def _static_server(folder: Path):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def harness_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("harness")


@pytest.fixture(scope="module")
def harness_origins(harness_folder):
    """Two other origins serving the harness folder: the listed one and one the link does not list."""
    listed, unlisted = _static_server(harness_folder), _static_server(harness_folder)
    yield f"http://127.0.0.1:{listed.server_port}", f"http://127.0.0.1:{unlisted.server_port}"
    for server in (listed, unlisted):
        server.shutdown()


@pytest.fixture(scope="module")
def panel_link(live_app, harness_origins):
    database = live_app.extensions["kb_db"].connection()
    return panel_links.create_link(database, "Chatwoot", harness_origins[0], "test-secret-key")


@pytest.fixture(scope="module")
def harness_url(harness_folder, harness_origins, panel_base, panel_link):
    link, token = panel_link
    context = {"conversation": CONVERSATION, "contact": CONTACT, "currentAgent": AGENT}
    (harness_folder / "chatwoot.html").write_text(HARNESS % {
        "width": PANEL_WIDTH, "src": f"{panel_base}/agent?panel={link.public_id}#token={token}",
        "panel_origin": json.dumps(panel_base), "context": json.dumps(context, ensure_ascii=False),
    }, encoding="utf-8")
    return "/chatwoot.html"


@pytest.fixture(scope="module")
def browser():
    with launched(sync_playwright) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def shots() -> Path:
    return screenshot_folder("agent-panel")


@pytest.fixture
def page(browser, panel_base, harness_origins):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="ar")
    for origin in (panel_base, harness_origins[0]):
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.console_errors = errors
    yield tab
    context.close()


def _panel_frame(page, panel_base):
    page.wait_for_function(
        "base => Array.from(document.querySelectorAll('iframe')).length > 0", arg=panel_base)
    for _ in range(100):
        for frame in page.frames:
            if frame.url.startswith(panel_base + "/agent"):
                return frame
        page.wait_for_timeout(50)
    raise AssertionError("the panel frame never loaded")


def _titles(frame) -> list[str]:
    return frame.eval_on_selector_all(".suggestion .suggestion-title", "links => links.map(a => a.textContent)")


def test_chatwoot_app_context_brings_suggestions_copy_feedback_and_refresh(page, panel_base, harness_origins,
                                                                           harness_url, live_app, shots):
    page.goto(harness_origins[0] + harness_url)
    frame = _panel_frame(page, panel_base)
    frame.wait_for_selector(".suggestion", timeout=15000)
    assert frame.eval_on_selector("#panel-message", "box => box.value") == CONVERSATION["messages"][-1]["content"]
    assert "4711" in frame.inner_text("#panel-context") and "سارة" in frame.inner_text("#panel-context")
    assert frame.evaluate("document.documentElement.dir") == "rtl"
    first_titles = _titles(frame)
    assert any("غاضب" in title or "شكوى" in title or "الشكاوى" in title for title in first_titles[:3]), first_titles
    page.screenshot(path=str(shots / "chatwoot-suggestions.png"))

    first = frame.locator(".suggestion").first
    slug = first.get_attribute("data-slug")
    first.locator('[data-action="copy-answer"]').click()
    frame.wait_for_selector(".suggestion.suggestion--used")
    assert frame.inner_text("#panel-status").strip()
    copied = page.evaluate("navigator.clipboard.readText()")
    shown = first.evaluate("""item => (item.querySelector('.suggestion-faq').hidden
        ? item.querySelector('.suggestion-passage') : item.querySelector('.faq-a')).textContent""")
    assert copied and " ".join(copied.split()) == " ".join(shown.split())
    assert first.locator(".badge--used").is_visible()

    first.locator('[data-action="helped"]').click()
    frame.wait_for_selector('.suggestion [data-action="helped"][aria-pressed="true"]')
    database = live_app.extensions["kb_db"].connection()
    row = database.execute("SELECT useful FROM suggest_feedback WHERE slug = ? ORDER BY id DESC", (slug,)).fetchone()
    assert row is not None and row["useful"] == 1

    # A new customer message: the next fetch-info answer carries it, the list refreshes by itself.
    asked = page.evaluate("window.fetchRequests")
    page.evaluate("message => { window.appContext.conversation.messages.push(message); }", NEW_MESSAGE)
    page.wait_for_function("n => window.fetchRequests > n", arg=asked, timeout=15000)
    frame.wait_for_function("text => document.getElementById('panel-message').value === text",
                            arg=NEW_MESSAGE["content"], timeout=15000)
    frame.wait_for_function("titles => Array.from(document.querySelectorAll('.suggestion .suggestion-title'))"
                            ".map(a => a.textContent).join('|') !== titles.join('|')", arg=first_titles, timeout=15000)
    again = frame.locator(f'.suggestion[data-slug="{slug}"]')
    if again.count():
        assert "suggestion--used" in again.first.get_attribute("class")
    page.screenshot(path=str(shots / "chatwoot-refreshed.png"))
    assert not [error for error in page.console_errors if "Content Security Policy" in error]


def test_search_box_finds_internal_articles_marked(page, panel_base, harness_origins, harness_url):
    page.goto(harness_origins[0] + harness_url)
    frame = _panel_frame(page, panel_base)
    frame.wait_for_selector(".suggestion", timeout=15000)
    frame.fill("#panel-search", "متى أصعّد الحالة إلى المشرف")
    frame.press("#panel-search", "Enter")
    frame.wait_for_function("() => document.getElementById('list-title').textContent === "
                            "JSON.parse(document.getElementById('agent-panel').dataset.strings).results_for",
                            timeout=15000)
    frame.wait_for_selector(".suggestion--internal .badge--internal", timeout=15000)
    assert frame.locator(".suggestion--internal .suggestion-internal-note").first.is_visible()
    assert frame.locator(".suggestion-feedback").first.is_hidden()


def test_another_helpdesk_posts_the_documented_shape(page, panel_base, harness_origins, harness_url):
    page.goto(harness_origins[0] + harness_url)
    frame = _panel_frame(page, panel_base)
    frame.wait_for_selector(".suggestion", timeout=15000)
    page.evaluate("window.hold = true")
    page.evaluate("""() => window.sendHost({type: "kb:conversation", conversation_id: "zammad-17", label: "Zammad #17",
        messages: [{role: "customer", text: "مرحبا"}, {role: "agent", text: "أهلًا"},
                   {role: "customer", text: "كيف أرد على تقييم سلبي نشره عميل على الإنترنت؟"}]})""")
    frame.wait_for_function("() => document.getElementById('panel-context').textContent === 'Zammad #17'")
    frame.wait_for_function("() => Array.from(document.querySelectorAll('.suggestion .suggestion-title'))"
                            ".some(a => a.textContent.includes('سلبي') || a.textContent.includes('التقييم'))",
                            timeout=15000)


def test_a_page_on_an_unlisted_origin_cannot_frame_the_panel(page, panel_base, harness_origins, harness_url):
    page.goto(harness_origins[1] + harness_url)
    page.wait_for_timeout(1500)
    for frame in page.frames[1:]:
        assert frame.query_selector("#agent-panel") is None, frame.url


def test_standalone_paste_and_url_message(browser, panel_base, panel_link, shots):
    link, token = panel_link
    context = browser.new_context(viewport={"width": PANEL_WIDTH, "height": 800}, locale="ar")
    tab = context.new_page()
    try:
        tab.goto(f"{panel_base}/agent?panel={link.public_id}#token={token}")
        tab.fill("#panel-message", "العميل يريد استرجاع المبلغ، ما سياسة الاسترداد؟")
        tab.click("#message-form button[type=submit]")
        tab.wait_for_selector(".suggestion", timeout=15000)
        wide = tab.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(el => {
            const box = el.getBoundingClientRect(); return box.right > innerWidth + 1 || box.left < -1;
        }).map(el => el.tagName + '.' + el.className)""")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PANEL_WIDTH, wide
        tab.screenshot(path=str(shots / "standalone-360.png"), full_page=True)

        # A misspelt English message with no answer as typed: the title says what was searched.
        tab.fill("#panel-message", "angry custmer")
        tab.click("#message-form button[type=submit]")
        tab.wait_for_function("() => document.getElementById('list-title').textContent.includes('«angry customer»')",
                              timeout=15000)
        assert tab.locator(".suggestion").first.get_attribute("data-slug") == "handling-angry-customers"

        tab.goto(f"{panel_base}/agent?panel={link.public_id}&message=%D8%B9%D9%85%D9%8A%D9%84%20%D8%BA%D8%A7%D8%B6%D8%A8"
                 f"#token={token}")
        tab.wait_for_selector(".suggestion", timeout=15000)

        tab.goto(f"{panel_base}/agent?panel={link.public_id}")
        tab.wait_for_selector("#panel-status.panel-status--error")
        assert tab.is_disabled("#message-form button[type=submit]")
    finally:
        context.close()

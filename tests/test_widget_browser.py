"""The help widget in a real headless Chromium, on a host page of another origin (another
port) with a strict Content-Security-Policy (an allow-list naming only the help center,
Trusted Types required) and hostile CSS: it loads, looks right at phone and desktop width,
searches as the visitor types, reads an article, votes, leads to the contact page, is used
by keyboard, adds one global, and stays off sites the admin did not allow.

Screenshots go to ``test-output/widget/``.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_support import CHROMIUM
from browser_support import MISSING
from browser_support import launched
from browser_support import screenshot_folder
from browser_support import serving
from conftest import make_settings

from kb.widget_origins import WidgetOrigins

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(MISSING, allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

NONCE = "host-nonce-8d1f"
QUESTION = "كيف أتعامل مع عميل غاضب"
# What a careless (or hostile) site's stylesheet does to everything it can reach.
HOSTILE_CSS = """
html { font-size: 6px !important; letter-spacing: 3px !important; color: #f0f !important; line-height: .7 !important; }
* { box-sizing: content-box !important; font-family: "Courier New", monospace !important; color: #f0f !important;
    text-transform: uppercase !important; }
div, section, header, footer, button, input, a, ul, li, p, h2, h3, span, label {
    display: inline !important; background: yellow !important; border: 6px dashed red !important;
    margin: 30px !important; padding: 0 !important; width: 12px !important; position: static !important; }
body > * { opacity: .4 !important; filter: blur(1px) !important; transform: rotate(4deg) !important;
    z-index: -1 !important; visibility: hidden !important; }
h1, .own-text { visibility: visible !important; }
button, input { visibility: hidden !important; display: none !important; }
:root { --kbw-color: lime !important; }
"""
HOST_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style nonce="{nonce}">{css}</style>
<script nonce="{nonce}">window.hostSheets = document.styleSheets.length; window.hostGlobals = Object.keys(window).concat(["hostGlobals"]);</script>
</head><body>
<h1 id="own">{heading}</h1>
<p class="own-text">{text}</p>
{tag}
</body></html>"""
PAGES = {
    "/ar.html": dict(lang="ar", dir="rtl", title="التعامل مع العميل الغاضب — متجر المثال", heading="متجر المثال",
                     text="صفحة من موقع الشركة.", attrs='data-lang="ar" data-context="شكوى عميل غاضب"'),
    "/en.html": dict(lang="en", dir="ltr", title="Negative reviews | Example Shop", heading="Example Shop",
                     text="A page of the company's site.",
                     attrs='data-lang="en" data-position="left" data-color="#8a1c7c" '
                           'data-contact-url="https://shop.example/contact" data-context="negative reviews online"'),
}
# Pages whose tag and CSP come from the staff page (test_the_tag_copied_from_the_english_staff_page_works):
# path -> (the tag as pasted, the origin the page's CSP allows).
PASTED: dict[str, tuple[str, str]] = {}


def strict_csp(help_origin: str) -> str:
    return "; ".join([
        "default-src 'none'", f"script-src 'nonce-{NONCE}' {help_origin}", f"style-src 'nonce-{NONCE}' {help_origin}",
        f"connect-src {help_origin}", f"img-src {help_origin}", "base-uri 'none'", "object-src 'none'",
        "form-action 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'", "trusted-types 'none'",
    ])


@contextmanager
def host_site(help_origin: str):
    """The company's site: a second local server (another port, so another origin)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            values, allowed = PAGES.get(path), help_origin
            if path in PASTED:
                tag, allowed = PASTED[path]
                values = {**PAGES["/ar.html"], "tag": tag}
            if values is None:
                self.send_error(404)
                return
            values = dict(values)
            values.setdefault("tag", f'<script src="{help_origin}/widget.js" {values["attrs"]} defer></script>')
            body = HOST_PAGE.format(nonce=NONCE, css=HOSTILE_CSS, **values).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", strict_csp(allowed))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def live_app(session_kb, tmp_path_factory):
    from kb.web import create_app

    settings = make_settings(tmp_path_factory.mktemp("widget-browser"), support_contact="").with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    return create_app(settings, knowledge=session_kb)


@pytest.fixture(scope="module")
def help_url(live_app):
    with serving(live_app) as url:
        yield url


@pytest.fixture(scope="module")
def host_url(live_app, help_url):
    with host_site(help_url) as port:
        WidgetOrigins(live_app.extensions["kb_db"].connection()).add(f"http://127.0.0.1:{port}", "test shop")
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser():
    with launched(sync_playwright) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def shots() -> Path:
    return screenshot_folder("widget")


class Tab:
    """A browser tab that keeps console errors (CSP and Trusted Types violations are errors)."""

    def __init__(self, browser, width: int, height: int, **options):
        self.context = browser.new_context(viewport={"width": width, "height": height}, **options)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message):
        if message.type == "error":
            self.errors.append(message.text)
        elif message.type == "warning":
            self.warnings.append(message.text)

    def open_host(self, url: str):
        self.page.goto(url)
        self.launcher.wait_for(state="visible", timeout=10_000)
        return self.page

    @property
    def launcher(self):
        return self.page.locator("kb-help-widget .kbw-launcher")

    def widget(self, selector: str):
        return self.page.locator(f"kb-help-widget {selector}")

    def in_shadow(self, script: str):
        return self.page.evaluate(f"(() => {{ const root = document.querySelector('kb-help-widget').shadowRoot; "
                                  f"return {script}; }})()")

    def close(self):
        self.context.close()


@pytest.fixture
def desktop(browser):
    tab = Tab(browser, 1280, 800, locale="ar")
    yield tab
    tab.close()


@pytest.fixture
def phone(browser):
    tab = Tab(browser, 375, 740, locale="ar", is_mobile=True, has_touch=True)
    yield tab
    tab.close()


def widget_searches(app) -> list[tuple[str, str]]:
    rows = app.extensions["kb_db"].connection().execute("SELECT query, source FROM searches").fetchall()
    return [(row["query"], row["source"]) for row in rows]


def wait_until(page, predicate, timeout_ms: int = 10_000) -> None:
    """Poll a Python condition while the page keeps running (e.g. a row the widget's request writes)."""
    for _ in range(timeout_ms // 100):
        if predicate():
            return
        page.wait_for_timeout(100)
    assert predicate()


def test_widget_works_under_a_strict_csp_and_hostile_css(desktop, host_url, help_url, live_app, shots):
    """GIVEN a host page on another origin with a strict CSP, Trusted Types and hostile CSS
    WHEN a visitor opens the widget, types a question, reads an answer and votes
    THEN everything works, looks like the widget (not like the page), and the host is untouched."""
    tab = desktop
    page = tab.open_host(host_url + "/ar.html")
    assert page.evaluate("Object.keys(window).filter(k => !window.hostGlobals.includes(k))") == ["KBHelpWidget"]
    assert page.evaluate("document.styleSheets.length === window.hostSheets")  # nothing added to the host's CSS
    launcher_style = tab.in_shadow("(() => { const s = getComputedStyle(root.querySelector('.kbw-launcher')); "
                                   "return [s.visibility, s.display, s.position, s.textTransform, s.fontFamily]; })()")
    assert launcher_style[:4] == ["visible", "flex", "fixed", "none"], launcher_style
    assert "Courier" not in launcher_style[4]
    host_style = page.evaluate("getComputedStyle(document.querySelector('kb-help-widget'))"
                               ".getPropertyValue('transform')")
    assert host_style == "none"  # the page's "body > * { transform }" does not reach the widget
    assert tab.launcher.get_attribute("aria-expanded") == "false"
    page.screenshot(path=str(shots / "desktop-closed.png"))

    tab.launcher.click()
    assert tab.launcher.get_attribute("aria-expanded") == "true"
    assert tab.in_shadow("root.activeElement && root.activeElement.id") == "kbw-q"
    assert tab.in_shadow("root.querySelector('.kbw').dir") == "rtl"
    suggested = tab.widget(".kbw-result")
    suggested.first.wait_for(state="visible", timeout=10_000)  # for the page's title and data-context
    assert "handling-angry-customers" in tab.in_shadow(
        "Array.from(root.querySelectorAll('.kbw-result')).map(a => a.href).join(' ')")
    input_size = tab.in_shadow("getComputedStyle(root.querySelector('#kbw-q')).fontSize")
    assert input_size == "16px"  # the host's html { font-size: 6px } does not reach in
    page.screenshot(path=str(shots / "desktop-open-suggested.png"))

    tab.widget("#kbw-q").type(QUESTION, delay=15)
    page.wait_for_function("() => document.querySelector('kb-help-widget').shadowRoot"
                           ".querySelector('.kbw-heading').textContent === 'الإجابات'", timeout=10_000)
    status = tab.widget(".kbw-status")
    assert "الإجابات" in status.inner_text()
    assert tab.widget(".kbw-result").count() >= 2
    # the articles that answer first, the related ones after one label (kb.search.tiers)
    labels = tab.in_shadow("Array.from(root.querySelectorAll('.kbw-list > li')).map(li => li.className)")
    assert labels.count("kbw-related") <= 1 and labels[0] != "kbw-related"
    if "kbw-related" in labels:
        assert tab.widget(".kbw-related").inner_text() == "مقالات ذات صلة"
    wait_until(page, lambda: ("كيف أتعامل مع عميل غاضب", "widget") in widget_searches(live_app))
    assert len(widget_searches(live_app)) == 1  # the keystrokes in between are not counted
    page.screenshot(path=str(shots / "desktop-results.png"))

    tab.widget(".kbw-result").first.click()
    title = tab.widget(".kbw-article-title")
    title.wait_for(state="visible", timeout=10_000)
    assert tab.in_shadow("root.activeElement.className") == "kbw-article-title"
    assert tab.widget(".kbw-article-body p").count() >= 1
    assert tab.in_shadow("root.querySelector('.kbw-article-body script, .kbw-article-body [onclick]')") is None
    page.screenshot(path=str(shots / "desktop-article.png"))
    tab.widget(".kbw-vote-button").first.click()  # "yes"
    tab.widget(".kbw-voted").wait_for(state="visible", timeout=10_000)
    slug = tab.in_shadow("root.querySelector('.kbw-site').href.split('/').pop()")
    assert live_app.extensions["kb_analytics"].article_votes(slug).helpful == 1
    clicked = live_app.extensions["kb_db"].connection().execute(
        "SELECT clicked_slug FROM searches WHERE source = 'widget'").fetchone()[0]
    assert clicked == slug
    page.screenshot(path=str(shots / "desktop-voted.png"))
    assert tab.errors == []  # no CSP or Trusted Types violation, no script error


def test_keyboard_and_screen_reader(desktop, host_url, live_app):
    """GIVEN the widget WHEN used by keyboard only THEN it opens, searches, moves into the
    results with the arrows, opens one with Enter, and Escape closes it back onto the button."""
    tab = desktop
    page = tab.open_host(host_url + "/ar.html")
    tab.launcher.focus()
    page.keyboard.press("Enter")
    assert tab.in_shadow("root.activeElement.id") == "kbw-q"
    dialog = tab.widget("[role=dialog]")
    assert dialog.get_attribute("aria-labelledby") == "kbw-title"
    assert tab.widget(".kbw-label").inner_text()  # the search box has a label
    page.keyboard.type("التعامل مع الشكاوى", delay=10)
    tab.widget(".kbw-result").first.wait_for(state="visible", timeout=10_000)
    page.wait_for_function("() => document.querySelector('kb-help-widget').shadowRoot"
                           ".querySelector('.kbw-status').textContent.includes('الإجابات')", timeout=10_000)
    assert tab.widget("[role=status]").count() >= 1
    page.keyboard.press("ArrowDown")
    assert tab.in_shadow("root.activeElement.classList.contains('kbw-result')")
    page.keyboard.press("ArrowDown")
    assert tab.in_shadow("root.activeElement.dataset.rank") == "2"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    tab.widget(".kbw-article-title").wait_for(state="visible", timeout=10_000)
    assert tab.in_shadow("root.activeElement.className") == "kbw-article-title"
    # Opened before the pause that counts a search: the search is counted then, with its click.
    opened = live_app.extensions["kb_db"].connection().execute(
        "SELECT clicked_slug, clicked_rank FROM searches WHERE source = 'widget' AND query = 'التعامل مع الشكاوى'"
    ).fetchall()
    assert [tuple(row)[1] for row in opened] == [1] and opened[0][0]
    page.keyboard.press("Escape")
    assert tab.widget("#kbw-panel").is_hidden()
    assert tab.in_shadow("root.activeElement.className") == "kbw-launcher"
    assert tab.launcher.get_attribute("aria-expanded") == "false"
    page.evaluate("KBHelpWidget.open('الرد على التقييمات السلبية')")
    tab.widget(".kbw-result").first.wait_for(state="visible", timeout=10_000)
    assert tab.errors == []


def test_phone_full_screen_not_helpful_leads_to_contact(phone, host_url, help_url, live_app, shots):
    tab = phone
    page = tab.open_host(host_url + "/ar.html")
    page.screenshot(path=str(shots / "phone-closed.png"))
    tab.launcher.tap()
    tab.widget(".kbw-result").first.wait_for(state="visible", timeout=10_000)
    box = tab.widget("#kbw-panel").bounding_box()
    assert box["x"] == 0 and box["width"] == 375 and box["height"] >= 700, box
    overflow = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert overflow[0] <= overflow[1], overflow
    page.screenshot(path=str(shots / "phone-open.png"))
    tab.widget(".kbw-result").first.tap()
    tab.widget(".kbw-article-title").wait_for(state="visible", timeout=10_000)
    article_box = tab.widget(".kbw-article-body").bounding_box()
    assert article_box["width"] <= 375
    page.screenshot(path=str(shots / "phone-article.png"))
    tab.widget(".kbw-vote-button").nth(1).tap()  # "no"
    contact = tab.widget(".kbw-contact-big")
    contact.wait_for(state="visible", timeout=10_000)
    href = contact.get_attribute("href")
    if any(rule.rule == "/contact" for rule in live_app.url_map.iter_rules()):
        assert href.startswith(help_url + "/contact?q=") and href.endswith("&lang=ar&source=widget"), href
    else:
        assert href == "mailto:help@example.com", href
    assert contact.get_attribute("target") == "_blank"
    page.screenshot(path=str(shots / "phone-contact.png"))
    assert tab.errors == []


def test_english_page_is_left_to_right_with_its_options(browser, host_url, shots):
    tab = Tab(browser, 1280, 800, locale="en")
    try:
        page = tab.open_host(host_url + "/en.html")
        assert tab.launcher.inner_text().strip().endswith("Help")
        launcher = tab.launcher.bounding_box()
        assert launcher["x"] < 100  # data-position="left"
        colour = tab.in_shadow("getComputedStyle(root.querySelector('.kbw-launcher')).backgroundColor")
        assert colour == "rgb(138, 28, 124)"  # data-color
        tab.launcher.click()
        assert tab.in_shadow("root.querySelector('.kbw').dir") == "ltr"
        tab.widget(".kbw-result").first.wait_for(state="visible", timeout=10_000)
        assert tab.widget(".kbw-heading").inner_text() == "Suggested for this page"
        assert tab.widget(".kbw-contact").get_attribute("href") == "https://shop.example/contact"
        page.screenshot(path=str(shots / "desktop-english.png"))
        # A misspelt question with no answer as typed: the answers of its correction, named.
        tab.widget("#kbw-q").type("reputaton", delay=10)
        tab.widget(".kbw-heading:text('Answers for “reputation”')").wait_for(state="visible", timeout=10_000)
        assert tab.errors == []
    finally:
        tab.close()


def copy_from_staff_page(browser, help_url: str, live_app) -> tuple[str, str]:
    """What an admin copies from the English staff page: the tag and the origin its CSP advice names."""
    from kb.store import users

    email, password = "widget-admin@example.com", "widget-admin-password-1"
    if users.find_user(live_app.extensions["kb_db"].connection(), email) is None:
        users.create_user(live_app.extensions["kb_db"].connection(), email, password, role="admin")
    tab = Tab(browser, 1280, 800, locale="en")
    try:
        page = tab.page
        page.goto(help_url + "/en/staff/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.locator("button[type=submit]").click()
        page.wait_for_url("**/en/staff/**")
        page.goto(help_url + "/en/staff/widget")
        tag = page.locator("pre.snippet code").inner_text()
        advice = page.locator("p", has_text="script-src").inner_text()
    finally:
        tab.close()
    return tag, advice.split("must allow ", 1)[1].split(" in script-src", 1)[0]


@pytest.mark.parametrize("script_path", ["copied", "/en/widget.js", "/ar/widget.js"])
def test_the_tag_copied_from_the_english_staff_page_works(browser, host_url, help_url, live_app, shots, script_path):
    """GIVEN the tag and CSP origin an admin copies from /en/staff/widget (or a tag that loads the
    script under a language prefix, as that page once gave) WHEN pasted into a page of an allowed
    site with a strict CSP naming that origin THEN the widget shows, its stylesheet loads, it
    searches and opens an article, with no CSP error."""
    tag, origin = copy_from_staff_page(browser, help_url, live_app)
    assert tag == f'<script src="{help_url}/widget.js" data-lang="ar" defer></script>'
    assert origin == help_url
    if script_path != "copied":
        tag = tag.replace("/widget.js", script_path)
    PASTED["/pasted.html"] = (tag, origin)
    tab = Tab(browser, 1280, 800, locale="ar")
    try:
        page = tab.open_host(host_url + "/pasted.html")
        assert not [text for text in tab.warnings if "stylesheet" in text]
        assert tab.in_shadow("getComputedStyle(root.querySelector('.kbw-launcher')).position") == "fixed"
        tab.launcher.click()
        tab.widget("#kbw-q").type(QUESTION, delay=10)
        tab.widget(".kbw-result").first.wait_for(state="visible", timeout=10_000)
        hrefs = tab.in_shadow("Array.from(root.querySelectorAll('.kbw-result')).map(a => a.href)")
        assert hrefs and all(href.startswith(help_url + "/articles/") for href in hrefs), hrefs
        tab.widget(".kbw-result").first.click()
        tab.widget(".kbw-article-title").wait_for(state="visible", timeout=10_000)
        contact = tab.widget(".kbw-contact").get_attribute("href")
        assert contact.startswith(help_url + "/contact?"), contact
        page.screenshot(path=str(shots / f"pasted-{script_path.strip('/').replace('/', '-')}.png"))
        assert tab.errors == []
    finally:
        PASTED.clear()
        tab.close()


def test_a_site_the_admin_did_not_allow_gets_no_widget(browser, host_url, live_app):
    """http://localhost:PORT is another origin than the allowed http://127.0.0.1:PORT."""
    tab = Tab(browser, 1280, 800)
    try:
        other = host_url.replace("127.0.0.1", "localhost")
        tab.page.goto(other + "/ar.html")
        tab.page.wait_for_function("() => window.KBHelpWidget !== undefined")
        tab.page.wait_for_timeout(500)
        assert tab.page.locator("kb-help-widget").count() == 0
        assert any("not available on this site" in text for text in tab.warnings)
    finally:
        tab.close()


def test_axe_finds_nothing_serious_in_the_open_widget(browser, host_url):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install -e .[test]")
    # axe injects its own script: this tab lifts the host's CSP (the other tests keep it).
    tab = Tab(browser, 1280, 800, bypass_csp=True)
    try:
        tab.open_host(host_url + "/ar.html")
        tab.launcher.click()
        tab.widget("#kbw-q").type(QUESTION, delay=10)
        tab.widget(".kbw-result").first.wait_for(state="visible", timeout=10_000)
        results = axe_module.Axe().run(tab.page, context={"include": [["kb-help-widget"]]})
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in serious]
    finally:
        tab.close()

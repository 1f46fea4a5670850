"""The help center in a real headless Chromium: search as you type, results, article, vote,
RTL, the bundled Arabic font, and no horizontal overflow on a phone.

Screenshots go to ``test-output/`` (git-ignored) so a person can look at them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import CHROMIUM
from browser_support import MISSING
from browser_support import launched
from browser_support import screenshot_folder
from browser_support import serving
from conftest import make_settings

pytestmark = pytest.mark.browser

FONT = "IBM Plex Sans Arabic"
QUESTION = "كيف أتعامل مع عميل غاضب"

if not CHROMIUM.exists():
    pytest.skip(MISSING, allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@pytest.fixture(scope="module")
def live_app(session_kb, tmp_path_factory):
    from kb.web import create_app

    settings = make_settings(tmp_path_factory.mktemp("browser")).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    return create_app(settings, knowledge=session_kb)


@pytest.fixture(scope="module")
def base_url(live_app):
    with serving(live_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with launched(sync_playwright) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def shots() -> Path:
    return screenshot_folder("site")


class Page:
    """A browser tab that remembers console errors and the fonts it downloaded."""

    def __init__(self, browser, width: int, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="ar")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.fonts: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("response", lambda response: response.url.endswith(".woff2") and self.fonts.append(response.url))

    def close(self):
        self.context.close()


@pytest.fixture
def desktop(browser):
    tab = Page(browser, 1280)
    yield tab
    tab.close()


@pytest.fixture
def phone(browser):
    tab = Page(browser, 375, 812)
    yield tab
    tab.close()


def font_in_use(page) -> dict:
    page.evaluate("document.fonts.ready.then(() => true)")
    return page.evaluate(
        """(family) => ({
            computed: getComputedStyle(document.body).fontFamily,
            loaded: Array.from(document.fonts).some(f => f.family.replace(/["']/g, '') === family && f.status === 'loaded'),
            check: document.fonts.check('16px "' + family + '"', 'مرحبا بك'),
        })""",
        FONT,
    )


def test_search_as_you_type_then_read_and_vote(desktop, base_url, live_app, shots):
    """GIVEN the home page WHEN a customer types an Arabic question THEN suggestions appear;
    submitting shows results, the first result opens the article, and "yes" records a vote."""
    page = desktop.page
    page.goto(base_url + "/")
    assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["rtl", "ar"]
    font = font_in_use(page)
    assert font["computed"].startswith(f'"{FONT}"') and font["loaded"] and font["check"], font
    assert any(url.startswith(base_url + "/static/fonts/") for url in desktop.fonts)
    page.screenshot(path=str(shots / "home.png"), full_page=True)

    box = page.locator("#q")
    box.click()
    box.type(QUESTION, delay=20)
    suggestions = page.locator(".suggestions .suggestion")
    suggestions.first.wait_for(state="visible", timeout=10_000)
    assert suggestions.count() >= 1
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == suggestions.first.get_attribute("id")
    page.screenshot(path=str(shots / "home-suggestions.png"))
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"

    box.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("#q").input_value() == QUESTION
    results = page.locator(".result")
    assert results.count() >= 3
    assert page.locator(".result mark").count() >= 1
    page.screenshot(path=str(shots / "search-results.png"), full_page=True)

    page.locator(".result-title a").first.click()
    page.wait_for_url("**/articles/**")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.locator("h1").inner_text()
    page.screenshot(path=str(shots / "article.png"), full_page=True)

    page.locator('button[name="helpful"][value="yes"]').click()
    page.locator(".feedback-thanks").wait_for(state="visible", timeout=5_000)
    assert "/articles/" in page.url  # voted in place, no reload
    page.screenshot(path=str(shots / "article-voted.png"))

    analytics = live_app.extensions["kb_analytics"]
    stats = {s.normalized: s for s in analytics.top_queries()}
    assert stats["كيف اتعامل مع عميل غاضب"].clicks == 1
    slug = page.evaluate("decodeURIComponent(location.pathname.split('/').pop())")
    assert analytics.article_votes(slug).helpful == 1
    assert desktop.errors == []  # includes Content-Security-Policy violations


def test_not_helpful_vote_offers_a_comment_and_support(desktop, base_url, live_app):
    page = desktop.page
    page.goto(base_url + "/articles/positive-language")
    page.locator('button[name="helpful"][value="no"]').click()
    comment = page.locator("#feedback-comment")
    comment.wait_for(state="visible", timeout=5_000)
    assert page.locator('#feedback a[href^="mailto:"]').count() == 1
    comment.fill("أريد مثالًا عن البريد الإلكتروني")
    page.locator(".feedback-comment button").click()
    page.get_by_text("وصلنا تعليقك").wait_for(timeout=5_000)
    report = live_app.extensions["kb_analytics"].least_helpful_articles()
    assert any(r.slug == "positive-language" and r.comments for r in report)
    assert desktop.errors == []


def test_faq_page_expands_questions(desktop, base_url, shots):
    page = desktop.page
    page.goto(base_url + "/faq")
    first = page.locator("details.faq-item").first
    assert first.get_attribute("open") is None
    first.locator("summary").click()
    assert first.get_attribute("open") is not None
    page.screenshot(path=str(shots / "faq.png"), full_page=True)
    assert desktop.errors == []


def test_keyboard_users_can_skip_to_content(desktop, base_url):
    page = desktop.page
    page.goto(base_url + "/articles/handling-angry-customers")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_english_article_is_left_to_right(desktop, base_url, shots):
    page = desktop.page
    page.goto(base_url + "/articles/responding-to-negative-reviews-en")
    assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["ltr", "en"]
    assert page.evaluate("getComputedStyle(document.querySelector('.article-body p')).direction") == "ltr"
    page.screenshot(path=str(shots / "article-english.png"), full_page=True)


@pytest.mark.parametrize("path, name", [
    ("/", "phone-home"),
    ("/search?q=%D8%B9%D9%85%D9%8A%D9%84%20%D8%BA%D8%A7%D8%B6%D8%A8", "phone-search"),
    ("/articles/handling-angry-customers", "phone-article"),
    ("/articles/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9-%D8%A7%D9%84%D8%A7%D8%B3%D8%AA%D8%B1%D8%AF%D8%A7%D8%AF", "phone-refund"),
    ("/faq", "phone-faq"),
    ("/no-such-page", "phone-404"),
])
def test_no_horizontal_overflow_on_a_phone(phone, base_url, shots, path, name):
    page = phone.page
    page.goto(base_url + path)
    page.evaluate("document.fonts.ready.then(() => true)")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width}px wide at 375px"
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert phone.errors == [] or name == "phone-404" and all("404" in e for e in phone.errors)

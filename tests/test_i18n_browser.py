"""The language switcher and the page direction in a real headless Chromium, at phone
(390 px) and desktop (1280 px) width, starting from either language.

Screenshots go to ``test-output/i18n/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import screenshot_folder
from browser_support import serving
from test_site_browser import CHROMIUM  # noqa: F401 - the module skips when Chromium is missing
from test_site_browser import base_url  # noqa: F401 - fixtures
from test_site_browser import browser  # noqa: F401
from test_site_browser import live_app  # noqa: F401

pytestmark = pytest.mark.browser

ANGRY = "handling-angry-customers"  # Arabic, no translation
REVIEWS_AR = "responding-to-negative-reviews"
REVIEWS_EN = "responding-to-negative-reviews-en"
OTHER = {"ar": "en", "en": "ar"}
DIRECTION = {"ar": "rtl", "en": "ltr"}


@pytest.fixture(scope="module")
def shots() -> Path:
    return screenshot_folder("i18n")


@pytest.fixture(params=[390, 1280], ids=["phone", "desktop"])
def page(request, browser):  # noqa: F811 - the imported fixture
    context = browser.new_context(viewport={"width": request.param, "height": 900}, locale="ar")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.errors = errors
    yield tab
    context.close()


def chrome(page) -> dict:
    """The page's language and direction as the browser sees them, where the brand sits,
    and whether anything sticks out sideways."""
    return page.evaluate("""() => {
        const html = document.documentElement;
        const brand = document.querySelector('.brand').getBoundingClientRect();
        const width = html.clientWidth;
        return {
            lang: html.lang, dir: html.dir,
            headerDirection: getComputedStyle(document.querySelector('.site-header')).direction,
            // the brand starts the header row: at the right edge in RTL, the left edge in LTR
            brandSide: brand.left + brand.width / 2 > width / 2 ? 'right' : 'left',
            overflow: html.scrollWidth - width,
            switcherVisible: (() => {
                const r = document.querySelector('.language-switcher').getBoundingClientRect();
                return r.width > 0 && r.left >= 0 && r.right <= width;
            })(),
        };
    }""")


def expect_language(page, lang: str) -> None:
    seen = chrome(page)
    assert (seen["lang"], seen["dir"], seen["headerDirection"]) == (lang, DIRECTION[lang], DIRECTION[lang])
    assert seen["brandSide"] == ("right" if lang == "ar" else "left")
    assert seen["overflow"] <= 1, f"{seen['overflow']} px of horizontal overflow"
    assert seen["switcherVisible"]


def switch(page, lang: str) -> None:
    with page.expect_navigation():
        page.click(f'.language-switcher a[hreflang="{lang}"]')


@pytest.mark.parametrize("start", ["ar", "en"])
def test_switcher_keeps_the_faq_page_and_flips_the_chrome(page, base_url, shots, start):  # noqa: F811
    width = page.viewport_size["width"]
    page.goto(f"{base_url}/{start}/faq")
    expect_language(page, start)
    heading = page.inner_text("h1")
    page.screenshot(path=str(shots / f"faq-{start}-{width}.png"), full_page=False)
    switch(page, OTHER[start])
    assert page.url == f"{base_url}/{OTHER[start]}/faq"
    expect_language(page, OTHER[start])
    assert page.inner_text("h1") != heading and page.locator(".faq-item").count() > 0  # the FAQ, in the other words
    page.screenshot(path=str(shots / f"faq-{OTHER[start]}-{width}.png"), full_page=False)
    assert not page.errors


@pytest.mark.parametrize("start", ["ar", "en"])
def test_switcher_on_a_search_keeps_the_question(page, base_url, start):  # noqa: F811
    page.goto(f"{base_url}/{start}/search?q=refund")
    switch(page, OTHER[start])
    assert page.url.startswith(f"{base_url}/{OTHER[start]}/search?q=refund")
    assert page.input_value("#q") == "refund"
    expect_language(page, OTHER[start])


def test_switcher_goes_to_the_translation_of_an_article(page, base_url, shots):  # noqa: F811
    width = page.viewport_size["width"]
    page.goto(f"{base_url}/articles/{REVIEWS_AR}")
    expect_language(page, "ar")
    switch(page, "en")
    assert page.url == f"{base_url}/articles/{REVIEWS_EN}"
    expect_language(page, "en")
    page.screenshot(path=str(shots / f"article-translation-en-{width}.png"), full_page=False)
    switch(page, "ar")
    assert page.url == f"{base_url}/articles/{REVIEWS_AR}"
    expect_language(page, "ar")


def test_untranslated_article_in_english_chrome_keeps_its_own_direction(page, base_url, shots):  # noqa: F811
    width = page.viewport_size["width"]
    page.goto(f"{base_url}/articles/{ANGRY}")
    switch(page, "en")
    assert page.url == f"{base_url}/en/articles/{ANGRY}"
    expect_language(page, "en")
    assert page.evaluate("getComputedStyle(document.querySelector('article.article')).direction") == "rtl"
    assert page.inner_text("#feedback-title") == "Was this article helpful?"
    page.screenshot(path=str(shots / f"article-ar-in-en-{width}.png"), full_page=True)
    assert not page.errors


# -- staff ----------------------------------------------------------------------------------------


@pytest.fixture
def staff_server(staff_app):  # noqa: F811
    with serving(staff_app) as url:
        yield url


@pytest.mark.parametrize("start", ["ar", "en"])
def test_staff_choose_their_language_with_the_switcher(page, staff_server, shots, start):  # noqa: F811
    """GIVEN a staff member signing in on /<lang>/staff WHEN they use the switcher on the
    articles list THEN the same list comes in the other language and direction, and the
    language stays through the editor's links."""
    from staff_fixtures import EDITOR

    width = page.viewport_size["width"]
    page.goto(f"{staff_server}/{start}/staff/articles")
    assert f"/{start}/staff/login" in page.url
    expect_language(page, start)
    page.fill("#email", EDITOR[0])
    page.fill("#password", EDITOR[1])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"**/{start}/staff/articles")
    expect_language(page, start)
    switch(page, OTHER[start])
    assert page.url == f"{staff_server}/{OTHER[start]}/staff/articles"
    expect_language(page, OTHER[start])
    page.screenshot(path=str(shots / f"staff-articles-{OTHER[start]}-{width}.png"), full_page=False)
    with page.expect_navigation():
        page.click(".staff-nav-new")
    assert page.url == f"{staff_server}/{OTHER[start]}/staff/articles/new"
    expect_language(page, OTHER[start])
    page.screenshot(path=str(shots / f"staff-editor-{OTHER[start]}-{width}.png"), full_page=False)
    assert not page.errors


from staff_fixtures import cheap_hashing  # noqa: E402,F401 - fixtures for staff_app
from staff_fixtures import staff_app  # noqa: E402,F401

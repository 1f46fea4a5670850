"""A real browser (headless Chromium) through the whole publishing workflow.

Sign in, write a new Arabic article with a heading and a list, watch the live preview
render it, publish, then search for it on the public site and find it.  Screenshots of
the editor and the search page go to ``test-output/`` (look at them when the layout changes).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from browser_support import serving
from conftest import OUTPUT
from staff_fixtures import EDITOR
from staff_fixtures import cheap_hashing  # noqa: F401 - fixtures
from staff_fixtures import staff_app  # noqa: F401

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "كيف تغلّف الهدايا للعملاء"
BODY = """يشرح هذا المقال خدمة تغليف الهدايا.

## خطوات التغليف

- اختر ورق التغليف المناسب
- أضف بطاقة إهداء مكتوبة باليد
- ضع شريطًا ذهبيًا

كلمة مميزة للبحث: فستقيّة."""


@pytest.fixture
def live_server(staff_app):
    """The app on a real port (browser_support.serving)."""
    with serving(staff_app) as url:
        yield url


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(locale="ar", viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.problems = []  # console errors (a CSP violation shows up here)
        page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        yield page
        browser.close()


def test_write_preview_publish_and_find_an_arabic_article(live_server, page):
    OUTPUT.mkdir(exist_ok=True)
    page.goto(f"{live_server}/staff/articles/new")
    assert "/staff/login" in page.url
    page.fill("#email", EDITOR[0])
    page.fill("#password", EDITOR[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/articles/new")

    page.fill("#title", TITLE)
    page.fill("#category", "الطلبات والاسترداد")
    page.fill("#tags", "هدايا، تغليف")
    page.fill("#summary", "خطوات تغليف الهدايا وإضافة بطاقة الإهداء.")
    page.fill("#body", BODY)
    page.click("[data-faq-add]")
    page.locator('input[name="faq_q"]').first.fill("هل التغليف مجاني؟")
    page.locator('textarea[name="faq_a"]').first.fill("نعم لكل الطلبات.")

    preview = page.locator("#preview")
    preview.locator("h2", has_text="خطوات التغليف").wait_for(timeout=10_000)
    assert preview.locator("li").count() == 3
    assert preview.locator("li").first.inner_text() == "اختر ورق التغليف المناسب"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUTPUT / "staff-editor.png"), full_page=True)

    started = time.monotonic()
    page.click("button[name=action][value=publish]")
    page.wait_for_url("**/edit")
    assert "نُشر المقال" in page.locator(".flashes").inner_text()
    page.goto(f"{live_server}/search?q=فستقية")
    first = page.locator(".result-title a").first
    assert first.inner_text() == TITLE
    elapsed = time.monotonic() - started
    print(f"\nbrowser: publish click -> found on the public search page: {elapsed:.2f} s")
    page.screenshot(path=str(OUTPUT / "staff-published-search.png"), full_page=True)

    first.click()
    page.wait_for_load_state()
    assert page.locator("h2", has_text="خطوات التغليف").count() == 1
    assert page.problems == []

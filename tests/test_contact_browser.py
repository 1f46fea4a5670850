"""The contact page in a real headless Chromium: the articles appear while the question is
typed (Arabic, right to left, on a phone; English on a desktop), opening one and coming
back keeps the visit, and "send" delivers to a webhook receiver started by the test with
the articles that were shown.  axe finds nothing serious; nothing sticks out sideways.

Screenshots go to ``test-output/contact/``.
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
from contact_support import wait_for
from contact_support import webhook_receiver

from kb.contact import ContactSettings
from kb.contact import ContactStore

pytestmark = pytest.mark.browser

ARABIC_QUESTION = "كيف أتعامل مع عميل غاضب"
ENGLISH_QUESTION = "how do I respond to a negative review"

if not CHROMIUM.exists():
    pytest.skip(MISSING, allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
Axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install -e .[test]").Axe


@pytest.fixture(scope="module")
def receiver():
    with webhook_receiver() as (url, received):
        yield url, received


@pytest.fixture(scope="module")
def live_app(session_kb, tmp_path_factory, receiver):
    from kb.web import create_app

    settings = make_settings(tmp_path_factory.mktemp("contact-browser")).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    app = create_app(settings, knowledge=session_kb)
    ContactStore(app.extensions["kb_db"]).save_settings(ContactSettings(mode="webhook", webhook_url=receiver[0]))
    yield app
    if "kb_contact" in app.extensions:
        app.extensions["kb_contact"].courier.stop()


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
    return screenshot_folder("contact")


def new_tab(browser, width: int, height: int, locale: str):
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def check_layout(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} overflows"
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], v["nodes"][0]["target"]) for v in violations]


def test_arabic_on_a_phone_answers_while_typing_then_sends(browser, base_url, receiver, shots):
    """GIVEN the widget's link in Arabic WHEN the customer types THEN the articles appear; sending
    anyway reaches the webhook with those articles."""
    context, page, errors = new_tab(browser, 375, 812, "ar")
    page.goto(base_url + "/contact?lang=ar")
    assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["rtl", "ar"]
    assert page.locator("[data-contact-answers]").is_hidden()
    page.locator("#contact-message").type(ARABIC_QUESTION, delay=15)
    first = page.locator("[data-contact-list] li a").first
    first.wait_for(state="visible", timeout=10_000)
    titles = page.locator("[data-contact-list] li a").all_inner_texts()
    assert titles and page.locator("[data-contact-ask]").input_value()
    check_layout(page, shots, "ar-phone-answers")
    page.fill("#contact-email", "layla@example.org")
    page.locator("#contact-message").fill(ARABIC_QUESTION + "؟ جربت كل ما في المقال")
    page.locator(".contact-form button[type=submit]").click()
    page.wait_for_url("**/contact/sent*")
    assert "تواصل" in page.title() or "أُرسلت" in page.title()
    check_layout(page, shots, "ar-phone-sent")
    sent = wait_for(lambda: [r for r in receiver[1].requests if r["json"]["email"] == "layla@example.org"])
    payload = sent[0]["json"]
    assert payload["language"] == "ar" and payload["message"].endswith("جربت كل ما في المقال")
    assert [item["title"] for item in payload["articles_shown"]][:len(titles)] == titles
    assert payload["articles_opened"] == []
    assert not errors, errors
    context.close()


def test_english_on_a_desktop_open_an_article_come_back_and_send(browser, base_url, receiver, shots):
    """GIVEN the English page WHEN the customer opens a shown article and comes back THEN the
    message they still send records that article as opened."""
    context, page, errors = new_tab(browser, 1280, 900, "en")
    page.goto(base_url + "/en/contact?" + "q=" + ENGLISH_QUESTION.replace(" ", "+"))
    assert page.evaluate("document.documentElement.dir") == "ltr"
    links = page.locator("[data-contact-list] li a")
    assert links.count() >= 1  # shown by the server for the question in the URL
    check_layout(page, shots, "en-desktop-answers")
    title = links.first.inner_text()
    links.first.click()
    page.wait_for_url("**/articles/**")
    assert title in page.locator("h1").first.inner_text()
    page.go_back()
    page.wait_for_selector("#contact-email")
    page.fill("#contact-email", "omar@example.org")
    page.locator("#contact-message").fill("The article did not cover my case")
    page.locator(".contact-form button[type=submit]").click()
    page.wait_for_url("**/contact/sent*")
    sent = wait_for(lambda: [r for r in receiver[1].requests if r["json"]["email"] == "omar@example.org"])
    payload = sent[0]["json"]
    assert payload["language"] == "en"
    assert payload["articles_opened"] == [payload["articles_shown"][0]["slug"]]
    assert not errors, errors
    context.close()


def test_staff_see_the_messages_the_destination_and_the_deflection(browser, base_url, live_app, shots):
    """GIVEN the messages sent above WHEN an admin opens the staff pages THEN the contact page lists
    them as sent, with the articles shown, and the reports count asked / answered / sent."""
    from kb.store import users

    email, password = "contact-admin@example.com", "contact-admin-password-1"
    users.create_user(live_app.extensions["kb_db"].connection(), email, password, role="admin")
    context, page, errors = new_tab(browser, 1280, 900, "en")
    page.goto(f"{base_url}/en/staff/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/staff/**")
    page.goto(f"{base_url}/en/staff/contact")
    rows = page.locator("tr[data-message-id]")
    assert rows.count() == 2
    assert page.locator("[data-status=sent]").count() == 2
    check_layout(page, shots, "en-staff-contact")
    page.goto(f"{base_url}/ar/staff/reports")
    section = page.locator("[data-report=contact-deflection]")
    asked = int(section.locator("[data-count=asked]").inner_text())
    assert asked >= 2 and section.locator("[data-count=sent]").inner_text() == "2"
    section.screenshot(path=str(shots / "ar-reports-deflection.png"))
    assert not errors, errors
    context.close()

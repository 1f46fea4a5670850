"""Every public and staff page in a real headless Chromium, at phone (390 px) and desktop
(1280 px) width, in Arabic and English: no horizontal overflow (a long URL, a wide table,
long words), mixed-direction lists keep their badges on the list's side, the brand applies,
axe-core finds no serious or critical violation, the editor preview follows the caret, and
the section links are keyboard accessible.

One browser and one server for the module; the knowledge base is a copy of the session's
with two edge-case articles added (only those are embedded).  Screenshots go to
``test-output/pages/``.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest
from browser_support import CHROMIUM
from browser_support import MISSING
from browser_support import launched
from browser_support import screenshot_folder
from browser_support import serving
from conftest import make_settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (390, 1280)
ADMIN = ("admin@example.com", "admin-password-1")
EDGE = "page-edge-cases"
ENGLISH = "english-only-guide"
CATEGORY = "orders"

if not CHROMIUM.exists():
    pytest.skip(MISSING, allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
Axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install -e .[test]").Axe

EDGE_ARTICLE = """---
title: "حالات الصفحة الصعبة: روابط طويلة وجداول عريضة"
slug: page-edge-cases
category: "الطلبات والاسترداد"
lang: ar
updated: 2026-11-20
summary: "رابط طويل جدًا https://example.com/a/very/long/summary/path/without/any/spaces/at/all وجدول عريض."
---

افتح الرابط https://example.com/a/very/long/path/that/never/breaks/because/it/has/no/spaces/at/all/and/keeps/going/index.html لتعرف المزيد.

كلمة طويلة: Supercalifragilisticexpialidocious-Pneumonoultramicroscopicsilicovolcanoconiosis-Antidisestablishmentarianism

## جدول عريض

| العمود الأول | العمود الثاني | العمود الثالث | العمود الرابع | العمود الخامس | العمود السادس | العمود السابع |
|---|---|---|---|---|---|---|
| قيمة طويلة نوعًا ما | قيمة طويلة نوعًا ما | قيمة طويلة نوعًا ما | قيمة طويلة نوعًا ما | قيمة طويلة نوعًا ما | قيمة | قيمة |

## قائمة مختلطة

- اشتراك Premium Plus Annual Subscription
- Order tracking page: https://example.com/orders/tracking/with/a/long/path/that/never/ends
- `kb --articles-dir /very/long/path/to/the/articles/folder/that/never/ends/anywhere/at/all`

## صورة من موقع آخر

![شعار الشركة](https://cdn.example.com/logo.png)
"""
ENGLISH_ARTICLE = """---
title: "Tracking an order from the mobile app"
slug: english-only-guide
category: "الطلبات والاسترداد"
lang: en
updated: 2026-11-21
summary: "Where to find the tracking number and what each status means."
---

Open the app and choose **Orders**.

## What each status means

Shipped means the parcel left the warehouse.
"""


def _hex(css_color: str) -> str:
    """'#rrggbb' of a computed 'rgb(r, g, b)'."""
    red, green, blue = (int(part) for part in css_color[css_color.index("(") + 1:-1].split(",")[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def _png(width: int = 120, height: int = 40) -> bytes:
    """A real (decodable) PNG: an orange bar, made here rather than shipped as a file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\xd9\x48\x0f" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def live_app(session_kb, session_dir, tmp_path_factory):
    from kb import KnowledgeBase
    from kb.store import users
    from kb.web import create_app

    base = tmp_path_factory.mktemp("pages-browser")
    shutil.copytree(session_dir / "articles", base / "articles")
    shutil.copytree(session_dir / "index", base / "index")
    (base / "articles" / "orders" / f"{EDGE}.md").write_text(EDGE_ARTICLE, encoding="utf-8")
    (base / "articles" / "orders" / f"{ENGLISH}.md").write_text(ENGLISH_ARTICLE, encoding="utf-8")
    settings = make_settings(base)
    knowledge = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    knowledge.index()  # only the two new articles
    app = create_app(settings, knowledge=knowledge, test_config={"TESTING": True})
    method, users.PASSWORD_METHOD = users.PASSWORD_METHOD, "scrypt:1024:8:1"
    try:
        users.create_user(app.extensions["kb_db"].connection(), *ADMIN, role="admin")
    finally:
        users.PASSWORD_METHOD = method
    return app


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
    return screenshot_folder("pages")


@pytest.fixture(scope="module")
def axe():
    return Axe()


def _tab(browser, width: int, base_url: str | None = None, signed_in: bool = False):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="ar")
    page = context.new_page()
    page.problems = []
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    if signed_in:
        page.goto(f"{base_url}/staff/login")
        page.fill("#email", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("form button[type=submit]")
        page.wait_for_load_state()
    return context, page


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda w: f"{w}px")
def reader(request, browser):
    context, page = _tab(browser, request.param)
    yield page
    context.close()


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda w: f"{w}px")
def admin(request, browser, base_url):
    context, page = _tab(browser, request.param, base_url, signed_in=True)
    yield page
    context.close()


# Elements wider than the viewport that are not inside a box that scrolls or clips them.
OVERFLOW_SCRIPT = """() => {
  const width = document.documentElement.clientWidth;
  const contained = (element) => {
    for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(parent).overflowX)) return true;
    }
    return false;
  };
  const outside = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height || element.closest('.visually-hidden, template')) continue;
    if ((box.right > width + 1 || box.left < -1) && !contained(element)) {
      outside.push(`${element.tagName.toLowerCase()}.${element.className} ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  // A button squeezed to a letter per line (its words broken "anywhere") is broken layout too.
  for (const button of document.body.querySelectorAll('button, .button, input[type=submit]')) {
    const box = button.getBoundingClientRect();
    if (box.height > 4 * parseFloat(getComputedStyle(button).lineHeight || '20')) {
      outside.push(`squeezed ${button.tagName.toLowerCase()} "${button.textContent.trim()}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, outside: outside.slice(0, 8)};
}"""

PUBLIC_PAGES = [
    ("/", "home"),
    ("/en/", "home-en"),
    ("/faq", "faq"),
    ("/en/faq", "faq-en"),
    (f"/categories/{CATEGORY}", "category"),
    (f"/articles/{EDGE}", "article-edge"),
    (f"/articles/{ENGLISH}", "article-english"),
    ("/articles/handling-angry-customers", "article"),
    ("/search?q=%D8%A7%D8%B3%D8%AA%D8%B1%D8%AF%D8%A7%D8%AF%20%D8%A7%D9%84%D9%85%D8%A8%D9%84%D8%BA", "search"),
    ("/en/search?q=refund", "search-en"),
    ("/no-such-page", "404"),
]
STAFF_PAGES = [
    ("/staff/articles", "staff-articles"),
    (f"/staff/articles/{EDGE}/edit", "staff-editor"),
    ("/staff/articles/new", "staff-new"),
    (f"/staff/articles/{EDGE}/revisions", "staff-revisions"),
    ("/staff/categories", "staff-categories"),
    ("/staff/synonyms", "staff-synonyms"),
    ("/staff/trash", "staff-trash"),
    ("/staff/reports", "staff-reports"),
    ("/staff/users", "staff-users"),
    ("/staff/api-keys", "staff-api-keys"),
    ("/staff/audit", "staff-audit"),
    ("/staff/brand", "staff-brand"),
    ("/staff/account", "staff-account"),
    ("/en/staff/articles", "staff-articles-en"),
]


def _check_page(page, base_url: str, path: str, name: str, shots: Path, axe=None) -> None:
    width = page.viewport_size["width"]
    response = page.goto(base_url + path)
    assert response is not None and response.status in (200, 404), (path, response and response.status)
    page.evaluate("document.fonts.ready.then(() => true)")
    found = page.evaluate(OVERFLOW_SCRIPT)
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    assert found["scrollWidth"] <= found["width"] and not found["outside"], (path, width, found)
    if axe is not None:
        violations = [v for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert violations == [], (path, width, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations])


@pytest.mark.parametrize("path, name", PUBLIC_PAGES, ids=[name for _, name in PUBLIC_PAGES])
def test_public_pages_fit_the_screen_and_pass_axe(reader, base_url, shots, axe, path, name):
    """GIVEN a phone or a desktop WHEN any public page opens (a long URL, a wide table, long
    words included) THEN nothing sticks out sideways, and axe finds nothing serious."""
    _check_page(reader, base_url, path, name, shots, axe)
    problems = [p for p in reader.problems if "404" not in p]
    reader.problems.clear()
    assert problems == []  # console errors include CSP violations (the external image is a link now)


@pytest.mark.parametrize("path, name", STAFF_PAGES, ids=[name for _, name in STAFF_PAGES])
def test_staff_pages_fit_the_screen_and_pass_axe(admin, base_url, shots, axe, path, name):
    _check_page(admin, base_url, path, name, shots, axe)
    problems, admin.problems[:] = list(admin.problems), []
    assert problems == []


def test_english_items_in_an_arabic_list_keep_the_lists_side(browser, base_url, shots):
    """GIVEN an Arabic category page listing an English article WHEN it renders THEN the item
    stays right to left (its badge and summary on the list's side) while its title reads left to right."""
    context, page = _tab(browser, 1280)
    page.goto(f"{base_url}/categories/{CATEGORY}")
    item = page.locator(".article-item", has=page.locator(f'a[href$="/articles/{ENGLISH}"]'))
    layout = item.evaluate("""(item) => {
      const title = item.querySelector('a');
      const itemBox = item.getBoundingClientRect(), titleBox = title.getBoundingClientRect();
      return {item: getComputedStyle(item).direction, title: getComputedStyle(title).direction,
              titleRightGap: Math.round(itemBox.right - titleBox.right), bidi: getComputedStyle(title).unicodeBidi};
    }""")
    assert layout["item"] == "rtl" and layout["title"] == "ltr" and layout["bidi"] == "isolate", layout
    assert layout["titleRightGap"] < 40, layout  # starts at the list's (right) side, not flipped to the left
    page.goto(f"{base_url}/")
    numbered = page.locator(".article-list--numbered .article-item")
    sides = numbered.evaluate_all("""(items) => items.map((item) => {
      const badge = getComputedStyle(item, '::before');
      return [getComputedStyle(item).direction, badge.insetInlineStart || badge.right];
    })""")
    assert {direction for direction, _ in sides} == {"rtl"}, sides
    page.screenshot(path=str(shots / "mixed-list.png"), full_page=True)
    context.close()


def test_section_links_copy_by_keyboard(browser, base_url):
    context, page = _tab(browser, 1280)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.goto(f"{base_url}/articles/{EDGE}")
    button = page.locator("h2 .heading-copy").first
    assert button.get_attribute("aria-label")
    button.focus()
    page.keyboard.press("Enter")
    page.locator(".article-body [role=status]").filter(has_text="").first.wait_for(state="attached")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{base_url}/articles/{EDGE}#") and copied.split("#", 1)[1]
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden() and page.locator(".feedback").is_hidden()
    context.close()
    context, page = _tab(browser, 390)
    page.goto(f"{base_url}/articles/{EDGE}")
    table = page.locator(".article-body table").first  # wider than a phone: it scrolls in its box
    assert table.get_attribute("tabindex") == "0" and table.get_attribute("aria-label")
    table.focus()
    page.keyboard.press("ArrowLeft")  # right to left: the hidden columns are on the left
    page.wait_for_function("() => Math.abs(document.querySelector('.article-body table').scrollLeft) > 0")
    context.close()


# Whether the preview heading with this text is wholly inside the preview pane's box.
HEADING_IN_VIEW = """(text) => {
  const pane = document.querySelector('.preview-pane').getBoundingClientRect();
  return [...document.querySelectorAll('#preview h2')].some((h) => {
    const box = h.getBoundingClientRect();
    return h.textContent.trim() === text && box.top >= pane.top && box.bottom <= pane.bottom;
  });
}"""
# Resolves after two frames: a caret sync scheduled before it (requestAnimationFrame) has run.
FRAMES_PASSED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def test_the_editor_preview_follows_the_caret(browser, base_url, shots):
    """GIVEN a long article in the editor WHEN the caret moves to its last section
    THEN the preview pane scrolls there; the pane is focusable and scrolls by keyboard.

    Every step waits for the state it needs (the preview rendered, the pane's own syncs
    done, the pane back at the top) rather than for a time, so a slow machine only makes
    it slower; and each scroll is checked to start from where it could not pass by itself.
    """
    context, page = _tab(browser, 1280, base_url, signed_in=True)
    page.goto(f"{base_url}/staff/articles/new")
    body = "\n\n".join(f"## قسم {n}\n\n" + "فقرة طويلة من النص العربي. " * 40 for n in range(1, 9))
    page.fill("#body", body)
    page.wait_for_function("() => document.querySelectorAll('#preview h2').length === 8")  # the server's preview
    page.evaluate("document.fonts.ready.then(() => true)")  # its bold headings' font, so the layout is final
    pane = page.locator(".preview-pane")
    assert pane.get_attribute("tabindex") == "0"
    # Markdown lines run in their own direction: "[نص](https://…)" and "- item" read in order.
    assert page.evaluate("getComputedStyle(document.getElementById('body')).unicodeBidi") == "plaintext"
    assert set(page.locator(".markdown-hint code").evaluate_all("(codes) => codes.map((c) => getComputedStyle(c).direction)")) == {"ltr"}
    page.focus("#body")
    page.evaluate("""() => { const b = document.getElementById('body'), at = b.value.indexOf('## قسم 7') + 3;
                             b.setSelectionRange(at, at); }""")
    page.evaluate(FRAMES_PASSED)  # the syncs the render and the focus scheduled are done
    page.evaluate("document.querySelector('.preview-pane').scrollTop = 0")
    assert not page.evaluate(HEADING_IN_VIEW, "قسم 7")  # out of view until the caret moves
    page.keyboard.press("ArrowRight")
    page.wait_for_function(HEADING_IN_VIEW, arg="قسم 7")  # the caret's section comes into view
    page.evaluate(FRAMES_PASSED)
    page.evaluate("document.querySelector('.preview-pane').scrollTop = 0")
    pane.focus()
    assert page.evaluate("document.activeElement.classList.contains('preview-pane') && document.activeElement.scrollTop === 0")
    page.keyboard.press("PageDown")
    page.wait_for_function("() => document.querySelector('.preview-pane').scrollTop > 0")
    page.screenshot(path=str(shots / "editor-preview-caret.png"))
    context.close()


def test_the_brand_applies_to_every_page(browser, base_url, live_app, shots, axe):
    """GIVEN a brand saved in the database (as the staff page does), its colour the lightest
    that passes the contrast check THEN the public pages show its logo, colour, name and
    footer links at once, on a phone too, and axe still finds no serious violation."""
    from kb.brand import Brand
    from kb.brand import BrandStore
    from kb.brand import FooterLink
    from kb.brand import accessible_color
    from kb.brand import contrast_ratio

    color = accessible_color("#ffcc00")[0]  # a yellow darkened just enough
    store = BrandStore(live_app.extensions["kb_db"].connection())
    store.save(Brand(primary_color=color, site_names={"ar": "مساعدة أكمي", "en": "ACME Help"},
                     footer_links=(FooterLink("سياسة الخصوصية", "https://example.com/privacy"),),
                     category_icons={CATEGORY: "truck"}), {"logo": (_png(), "image/png")})
    try:
        for width in WIDTHS:
            context, page = _tab(browser, width)
            page.goto(f"{base_url}/")
            logo = page.locator("header .brand-logo")
            logo.wait_for()
            assert page.evaluate("document.querySelector('header .brand-logo').naturalWidth") == 120
            primary = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--primary').trim()")
            assert primary == color
            violations = [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
            assert violations == [], violations
            # Text on the banner's gradient (axe cannot judge gradients): readable at both ends.
            for selector in (".hero h1", ".hero-lead", ".hero .search-label"):
                text = _hex(page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).color"))
                for end in ("--hero-from", "--hero-to"):
                    background = page.evaluate(
                        f"getComputedStyle(document.documentElement).getPropertyValue('{end}').trim()")
                    assert contrast_ratio(text, background) >= 4.5, (selector, text, end, background)
            assert page.locator(".brand-name").inner_text() == "مساعدة أكمي"
            assert page.locator('.footer-brand-links a[href="https://example.com/privacy"]').count() == 1
            assert page.locator(".category-icon.icon-truck").count() == 1
            assert page.evaluate(OVERFLOW_SCRIPT)["outside"] == []
            page.screenshot(path=str(shots / f"brand-home-{width}.png"), full_page=True)
            page.goto(f"{base_url}/en/")
            assert page.locator(".brand-name").inner_text() == "ACME Help"
            assert page.problems == []
            context.close()
    finally:
        store.save(Brand(), {"logo": None})

"""kb.render: sanitized HTML, heading ids for Arabic headings, and the sections search returns."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kb.articles import load_articles
from kb.render import markdown_to_text
from kb.render import render_markdown
from kb.render import sanitize_html
from kb.render import split_sections
from kb.text import slugify

TESTS = Path(__file__).resolve().parent
ARTICLE_FOLDERS = [TESTS / "data" / "articles", TESTS.parent / "articles"]


class _Elements(HTMLParser):
    """Every start tag with its attributes, to assert on structure rather than on text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def heading_ids(html: str) -> list[str]:
    return [attrs["id"] for tag, attrs in _Elements(html).tags if re.fullmatch("h[2-4]", tag)]


# -- sanitization -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "قبل <script>alert(1)</script> بعد",
        "<script src='https://evil.example/x.js'></script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<img src=x onerror=alert(1)>",
        '<img src="x.png" onerror="fetch(\'//evil\')" alt="صورة">',
        '<a href="javascript:alert(1)">اضغط</a>',
        '<a href="JaVaScRiPt:alert(1)">اضغط</a>',
        '<a href="  javascript:alert(1)">اضغط</a>',
        "[اضغط](javascript:alert(1))",
        "[اضغط](javascript&#58;alert(1))",
        "![صورة](javascript:alert(1))",
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<p onclick="alert(1)" style="color:red">نص</p>',
        "<svg onload=alert(1)><circle/></svg>",
        "<iframe src='https://evil.example'></iframe>",
        "<details open ontoggle=alert(1)><summary>x</summary></details>",
        "<style>body{display:none}</style>",
        "<form action='//evil'><input name=q></form>",
        "## عنوان <script>alert(1)</script>",
        "| أ |\n|---|\n| <img src=x onerror=alert(1)> |",
        "- بند <a href='javascript:alert(1)'>رابط</a>",
    ],
)
def test_hostile_markup_never_survives(markdown):
    html = render_markdown(markdown).html
    lowered = html.lower()
    assert "<script" not in lowered
    assert "javascript" not in lowered
    assert "data:text" not in lowered
    for tag, attrs in _Elements(html).tags:
        assert tag not in ("script", "iframe", "svg", "style", "form", "input"), html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name != "style", html
            if name in ("href", "src"):
                assert not (value or "").strip().lower().startswith(("javascript", "data", "vbscript")), html


def test_sanitize_html_keeps_safe_markup_and_adds_rel():
    html = sanitize_html('<p dir="auto">نص <a href="https://example.com" onclick="x()">رابط</a></p>')
    assert html == '<p dir="auto">نص <a href="https://example.com" rel="noopener noreferrer">رابط</a></p>'


ARABIC_DOCUMENT = """مقدمة فيها **نص غامق** و*مائل* و[رابط آمن](https://example.com/مساعدة) و[بريد](mailto:help@example.com).

## إدارة الوقت

- البند الأول
- البند الثاني

1. خطوة أولى
2. خطوة ثانية

### جدول المدد

| وسيلة الدفع | المدة |
|---|---|
| بطاقة ائتمان | 5-10 أيام |

```
رمز الطلب: ORD-2026-0001
if a < b: print("x")
```

> اقتباس مهم

Inline `code` here.
"""


def test_normal_arabic_markup_survives_intact():
    html = render_markdown(ARABIC_DOCUMENT).html
    elements = _Elements(html)
    assert '<h2 dir="auto" id="إدارة-الوقت">إدارة الوقت</h2>' in html
    assert '<h3 dir="auto" id="جدول-المدد">جدول المدد</h3>' in html
    assert "<strong>نص غامق</strong>" in html and "<em>مائل</em>" in html
    assert [a["href"] for a in elements.all("a")] == ["https://example.com/مساعدة", "mailto:help@example.com"]
    assert '<li dir="auto">البند الأول</li>' in html
    assert len(elements.all("ul")) == 1 and len(elements.all("ol")) == 1
    assert '<td dir="auto">بطاقة ائتمان</td>' in html and '<th dir="auto">وسيلة الدفع</th>' in html
    assert "<pre dir=\"ltr\"><code>رمز الطلب: ORD-2026-0001\nif a &lt; b: print(\"x\")\n</code></pre>" in html
    assert "<code>code</code>" in html
    assert "<p dir=\"auto\">Inline <code>code</code> here.</p>" in html
    assert elements.all("blockquote") == [{"dir": "auto"}]


def test_text_blocks_get_dir_auto():
    html = render_markdown(ARABIC_DOCUMENT).html
    for tag in ("p", "li", "h2", "h3", "td", "th", "blockquote"):
        found = _Elements(html).all(tag)
        assert found, tag
        assert all(attrs.get("dir") == "auto" for attrs in found), tag


# -- heading ids: one function for the TOC, the page and the sections -------------------------------------


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("إدارة الوقت", "إدارة-الوقت"),
        ("إدارةُ الوقتِ", "إدارة-الوقت"),  # tashkeel is not part of the id
        ("إدارة الـــوقت", "إدارة-الوقت"),  # nor is tatweel
        ("1. ابقَ هادئًا ومحترفًا", "1-ابق-هادئا-ومحترفا"),
        ("ما هي خدمة العملاء؟", "ما-هي-خدمة-العملاء"),
        ("Time & Stress", "time-stress"),
        ("iPhone ١٥ برو", "iphone-١٥-برو"),
        ("!!!", "section"),
    ],
)
def test_heading_id_is_the_shared_slug(heading, anchor):
    rendered = render_markdown(f"## {heading}\n\nنص")
    assert heading_ids(rendered.html) == [anchor]
    assert [entry.anchor for entry in rendered.toc] == [anchor]
    assert [s.anchor for s in split_sections(f"## {heading}\n\nنص")] == [anchor]
    if anchor != "section":
        assert slugify(heading) == anchor


def test_duplicate_headings_get_numbered_ids_everywhere():
    body = "## الأسئلة\n\nأ\n\n## الأسئلة\n\nب\n\n### الأسئلة\n\nج\n"
    rendered = render_markdown(body)
    expected = ["الأسئلة", "الأسئلة_1", "الأسئلة_2"]
    assert heading_ids(rendered.html) == expected
    assert [e.anchor for e in rendered.toc] == expected
    assert [s.anchor for s in split_sections(body)] == expected
    assert [s.text for s in split_sections(body)] == ["أ", "ب", "ج"]


def test_toc_holds_levels_two_to_four_only():
    body = "# عنوان المقال\n\n## ثاني\n\n### ثالث\n\n#### رابع\n\n##### خامس\n"
    toc = render_markdown(body).toc
    assert [(e.level, e.title) for e in toc] == [(2, "ثاني"), (3, "ثالث"), (4, "رابع")]


@pytest.mark.parametrize("folder", ARTICLE_FOLDERS, ids=["test-articles", "launch-articles"])
def test_section_anchors_equal_the_ids_on_the_rendered_page(folder):
    """GIVEN every real article
    WHEN it is split into sections and rendered
    THEN each section's anchor is a heading id on the page, in the same order."""
    catalog = load_articles(folder)
    assert catalog.articles
    for article in catalog.articles.values():
        anchors = [s.anchor for s in split_sections(article.body) if s.anchor]
        assert anchors == heading_ids(render_markdown(article.body).html), article.slug


@pytest.mark.parametrize(
    ("body", "sections"),
    [
        # A '##' line inside a fenced code block is code, not a heading.
        ("## أ\n\n```\n## ليس عنوانا\n```\n\n## ب\n\nنص", [("أ", "أ", "## ليس عنوانا"), ("ب", "ب", "نص")]),
        ("## أ\n\n~~~\n## ليس عنوانا\n~~~\n\n## ب\n\nنص", [("أ", "أ", "## ليس عنوانا"), ("ب", "ب", "نص")]),
        # A setext heading is a heading on the page, so it is one in the sections too.
        ("مقدمة\n\nأولا\n-----\n\nنص\n\n## ثانيا\n\nنص2", [(None, None, "مقدمة"), ("أولا", "أولا", "نص"), ("ثانيا", "ثانيا", "نص2")]),
        # A heading inside a quote is no section; it must not shift the next anchor.
        ("> ## مقتبس\n\n## ثانيا\n\nنص", [(None, None, "مقتبس"), ("ثانيا", "ثانيا", "نص")]),
        # A '##' line inside raw HTML is no heading on the page.
        ("<div>\n## ليس\n</div>\n\n## ثانيا\n\nنص", [(None, None, "## ليس"), ("ثانيا", "ثانيا", "نص")]),
        # Closing hashes and inline markup in the heading.
        ("## عنوان ##\n\nنص\n\n## عنوان *مائل* و [رابط](https://x.com)\n\nن", [("عنوان", "عنوان", "نص"), ("عنوان مائل و رابط", "عنوان-مائل-و-رابط", "ن")]),
        # An H1 uses up its id but is no section.
        ("# مقدمة\n\n## مقدمة\n\nنص", [(None, None, "مقدمة"), ("مقدمة", "مقدمة_1", "نص")]),
        ("", []),
        ("بلا عناوين", [(None, None, "بلا عناوين")]),
    ],
)
def test_split_sections_follows_the_page(body, sections):
    found = split_sections(body)
    assert [(s.heading, s.anchor, s.text) for s in found] == sections
    ids = iter(heading_ids(render_markdown(body).html))
    assert all(s.anchor in ids for s in found if s.anchor)  # ids of the page, in page order
    assert [s.index for s in found] == list(range(len(found)))


def test_sections_carry_their_heading_path():
    body = "مقدمة.\n\n## أ\n\nنص أ\n\n### أ-1\n\nنص أ-1\n\n#### أ-1-1\n\nعميق\n\n### أ-2\n\nنص\n\n## ب\n\nنص ب"
    paths = [(s.heading, s.level, s.path) for s in split_sections(body)]
    assert paths == [
        (None, 0, ()),
        ("أ", 2, ("أ",)),
        ("أ-1", 3, ("أ", "أ-1")),
        ("أ-1-1", 4, ("أ", "أ-1", "أ-1-1")),
        ("أ-2", 3, ("أ", "أ-2")),
        ("ب", 2, ("ب",)),
    ]


def test_empty_introduction_is_skipped_but_empty_sections_are_kept():
    sections = split_sections("\n\n## أ\n\n## ب\n\nنص")
    assert [(s.heading, s.text) for s in sections] == [("أ", ""), ("ب", "نص")]


# -- plain text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("**غامق** و *مائل* و [رابط](https://x.com)", "غامق و مائل و رابط"),
        ("- أ\n- ب", "أ\nب"),
        ("| أ | ب |\n|---|---|\n| 1 | 2 |", "أ | ب\n1 | 2"),
        ("`<b>` وسم", "<b> وسم"),
        ("سطر\nمكسور", "سطر مكسور"),
        ("   ", ""),
    ],
)
def test_markdown_to_text(markdown, text):
    assert markdown_to_text(markdown) == text

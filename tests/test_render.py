"""kb.content.render: sanitized HTML, heading ids for Arabic headings, and the sections search returns."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from kb.content.articles import load_articles
from kb.content.render import external_image_urls
from kb.content.render import markdown_to_text
from kb.content.render import render_markdown
from kb.content.render import sanitize_html
from kb.content.render import split_sections
from kb.text import slugify

# Tag names the sanitizer knows about, kept or dropped, and the ones that change how HTML is parsed.
_TAG_NAMES = {"b", "i", "em", "strong", "a", "code", "pre", "div", "p", "table", "td", "details", "img", "br", "h2",
              "script", "style", "textarea", "title", "iframe", "svg", "math", "noscript", "template", "xmp", "plaintext",
              "select", "option", "form", "object", "noembed", "noframes"}
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


# -- raw HTML never hides text ----------------------------------------------------------------------


# Elements a browser lays out inside a line: their edges do not separate words ("&lt;<em>0</em>&gt;"
# reads "<0>"); every other element's edge does.
_INLINE_TAGS = frozenset({"a", "abbr", "b", "bdi", "bdo", "cite", "code", "del", "dfn", "em", "i", "ins", "kbd", "mark",
                          "q", "s", "samp", "small", "span", "strong", "sub", "sup", "u", "var"})


def visible_text(html: str) -> str:
    """What a reader sees of some sanitized HTML, as the browser's parser reads it."""

    class _Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.hidden = 0

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("script", "style", "template")
            if tag not in _INLINE_TAGS:
                self.parts.append(" ")

        def handle_endtag(self, tag):
            self.hidden -= tag in ("script", "style", "template") and self.hidden > 0
            if tag not in _INLINE_TAGS:
                self.parts.append(" ")

        def handle_data(self, data):
            if not self.hidden:
                self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def words(text: str) -> list[str]:
    return text.replace("|", " ").split()


def indexed_words(body: str) -> list[str]:
    """The words search indexes for an article body: each section's heading, then its text."""
    return [w for s in split_sections(body) for w in words(f"{s.heading or ''} {s.text}")]


@pytest.mark.parametrize(
    "markdown",
    [
        "قبل <script> بعد النص المخفي",
        "قبل <style> بعد النص المخفي",
        "قبل\n\n<script>\n\nبعد النص المخفي\n\n## عنوان لاحق\n\nفقرة أخيرة",
        "قبل\n\n<style>\nbody{}\n\n## عنوان لاحق\n\nفقرة أخيرة",
        "if a<b and c>d then the rest stays plain",
        "a<b>d stays plain to the end\n\nnext paragraph",
        "write to <email> or <اسم>, then </3 and <?php echo ?> and <!-- unclosed",
        "<iframe src='x'>\n\nafter the frame\n\n## next",
        "نص <textarea> بعده <title> ثم <noscript> ثم <xmp> ثم <plaintext> النهاية",
    ],
)
def test_text_after_markup_the_sanitizer_drops_is_shown_and_indexed(markdown):
    """GIVEN prose with a tag the sanitizer drops (the issue's bare <script>, <style>, a<b … c>d)
    WHEN rendered THEN every word written is on the page, nothing is bold or hidden, and
    search indexes exactly the page's words."""
    html = render_markdown(markdown).html
    shown = words(visible_text(html))
    source_words = [w for w in words(markdown) if w.isalpha()]
    for word in source_words:
        assert word in " ".join(shown), (word, html)
    assert "<b>" not in html and "<script" not in html.lower() and "<style" not in html.lower()
    assert shown == indexed_words(markdown)


def test_markup_the_sanitizer_keeps_is_still_markup():
    html = render_markdown('نص <b>غامق</b> و<kbd>Ctrl</kbd>\n\n<details open><summary>س</summary>\nج\n</details>').html
    tags = {tag for tag, _ in _Elements(html).tags}
    assert {"b", "kbd", "details", "summary"} <= tags and "&lt;" not in html


def test_a_comment_is_hidden_on_the_page_and_from_search():
    html = render_markdown("قبل <!-- ملاحظة داخلية --> بعد").html
    assert "ملاحظة" not in html and words(visible_text(html)) == ["قبل", "بعد"]
    assert markdown_to_text("قبل <!-- ملاحظة داخلية --> بعد") == "قبل بعد"


TAG_LIKE = st.one_of(
    st.text(max_size=30).map(lambda t: f"<{t}>"),
    st.text(max_size=30).map(lambda t: f"<{t}"),
    st.tuples(st.sampled_from(sorted(_TAG_NAMES)), st.text(max_size=20), st.booleans()).map(
        lambda p: f"<{'/' if p[2] else ''}{p[0]}{' ' + p[1] if p[1] else ''}>"),
)
PROSE_WORDS = st.lists(st.sampled_from(["الشحن", "مجاني", "refund", "order", "خلال", "days", "أيام", "فوق"]),
                       min_size=1, max_size=6)


@given(before=PROSE_WORDS, tag=TAG_LIKE, after=PROSE_WORDS, heading=st.booleans())
@settings(max_examples=400, deadline=None, database=None)
def test_property_words_after_any_tag_survive_and_search_sees_the_page(before, tag, after, heading):
    """For any prose with any tag-like string in it, the words after it are on the page, in
    order, and the words search indexes are the page's words."""
    tail = " ".join(after) + " zzend"
    body = " ".join(before) + " " + tag + " " + tail + ("\n\n## عنوان\n\nخاتمة" if heading else "")
    html = render_markdown(body).html
    shown = words(visible_text(html))
    assert " ".join(shown).find(tail) >= 0 or _in_order(after + ["zzend"], shown), (body, html)
    assert shown == indexed_words(body), (body, html)


def _in_order(expected: list[str], shown: list[str]) -> bool:
    """The expected words appear in shown in this order (a tag's text may stick to a word)."""
    text = " ".join(shown)
    position = 0
    for word in expected:
        position = text.find(word, position)
        if position < 0:
            return False
        position += len(word)
    return True


# -- images on other sites ---------------------------------------------------------------------


@pytest.mark.parametrize("markdown, url", [
    ("![شعار الشركة](https://cdn.example.com/logo.png)", "https://cdn.example.com/logo.png"),
    ('<img src="http://example.com/a.png?x=1&y=2" alt="diagram">', "http://example.com/a.png?x=1&y=2"),
    ("![](//example.com/p.png)", "//example.com/p.png"),
    ("- بند ![رسم](https://example.org/r.svg \"عنوان\")", "https://example.org/r.svg"),
])
def test_an_external_image_becomes_a_visible_link(markdown, url):
    """GIVEN an image on another site (which the CSP would block: a broken image)
    THEN the page shows a link to it, labelled, and the URL is reported for the author."""
    rendered = render_markdown(markdown)
    assert "<img" not in rendered.html
    assert 'class="external-image"' in rendered.html
    assert rendered.external_images == (url,)
    assert external_image_urls(markdown) == (url,)
    label = visible_text(rendered.html).strip()
    assert label  # never an empty link: alt text, title or the address itself


def test_local_and_data_free_images_stay_images():
    rendered = render_markdown("![صورة](/media/2026/11/a.png) and ![x](images/b.png)")
    assert rendered.html.count("<img") == 2
    assert rendered.external_images == ()
    assert external_image_urls("نص بلا صور") == ()


def test_an_external_image_label_cannot_inject_markup():
    rendered = render_markdown('<img src="https://e.example/x.png" alt="&quot;><script>alert(1)</script>">')
    assert "<script" not in rendered.html
    assert rendered.external_images == ("https://e.example/x.png",)

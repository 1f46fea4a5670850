"""The help-center site (blueprint "site") and the shared web layer (security, error pages),
through Flask's test client against the session knowledge base."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import quote
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from conftest import BOTH_DATABASES
from conftest import make_settings

from kb.search_results import SearchPage
from kb.web import create_app
from kb.web.pages import build_public_catalog
from kb.web.pages import in_language

DRAFT = "customer-service-kpis"
INTERNAL = "response-times-and-escalation-guide"
ANGRY = "handling-angry-customers"
REVIEWS_AR = "responding-to-negative-reviews"
REVIEWS_EN = "responding-to-negative-reviews-en"
REFUND = "سياسة-الاسترداد"
HIDDEN = (DRAFT, INTERNAL)


def html(response) -> str:
    return response.get_data(as_text=True)


class _Collector(HTMLParser):
    """Links, JSON-LD blocks and the <html> attributes of a page."""

    def __init__(self):
        super().__init__()
        self.links: list[dict] = []
        self.hrefs: list[str] = []
        self.jsonld: list[str] = []
        self.root: dict = {}
        self.meta: dict[str, str] = {}
        self._in_jsonld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.root = attrs
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        elif tag == "meta" and attrs.get("name"):
            self.meta[attrs["name"]] = attrs.get("content", "")
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_jsonld = True
            self.jsonld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_jsonld = False

    def handle_data(self, data):
        if self._in_jsonld:
            self.jsonld[-1] += data


def parse(response) -> _Collector:
    collector = _Collector()
    collector.feed(html(response))
    return collector


def slugs_linked(page: _Collector) -> set[str]:
    """Article slugs the page links to, directly or through the search click redirect."""
    found = set()
    for href in page.hrefs:
        match = re.match(r"^/articles/([^/#?]+)", href)
        if match:
            found.add(unquote(match.group(1)))
        match = re.search(r"[?&]to=([^&]+)", href)
        if match:
            found.add(unquote(match.group(1)))
    return found


def csrf_from(response) -> str:
    """The page's CSRF token; "" for the article page, whose vote form needs none (it is checked
    by origin, so that reading an article sets no cookie: see test_pages.py)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html(response))
    return match.group(1) if match else ""


# -- every page and its status ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/", "/faq", "/search", "/search?q=عميل غاضب", f"/articles/{ANGRY}", f"/articles/{quote(REFUND)}",
    f"/articles/{REVIEWS_EN}", "/categories/complaints-and-angry-customers", "/categories/orders",
])
def test_pages_render_in_arabic_with_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    page = parse(response)
    assert page.root["dir"] in ("rtl", "ltr") and page.root["lang"] in ("ar", "en")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in html(response) and " style=" not in html(response)  # nothing inline for CSP to block


@pytest.mark.parametrize("path", [
    f"/articles/{DRAFT}", f"/articles/{INTERNAL}", "/articles/no-such-article", "/categories/no-such-category",
    "/no-such-page", f"/search/click?to={DRAFT}", f"/search/click?to={INTERNAL}",
])
def test_missing_and_hidden_pages_are_arabic_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    page = parse(response)
    assert page.root == {"lang": "ar", "dir": "rtl"}
    assert "الصفحة غير موجودة" in html(response)
    assert 'name="q"' in html(response)  # a search box to recover


def test_home_lists_categories_with_counts_popular_articles_and_faq(client, session_kb):
    response = client.get("/")
    text = html(response)
    assert parse(response).root == {"lang": "ar", "dir": "rtl"}
    assert 'role="search"' in text and 'id="q"' in text
    # 3 Arabic + 1 English public articles; the English one is a translation of an Arabic one,
    # so the Arabic home counts the pair once
    assert "الشكاوى والعملاء الغاضبون" in text and "3 مقالات" in text
    assert "كل الأسئلة الشائعة" in text and "<details" in text
    assert session_kb.settings.support_contact in text or "mailto:help@example.com" in text


@BOTH_DATABASES
def test_home_popular_list_follows_article_views(client):
    for _ in range(3):
        client.get(f"/articles/{quote(REFUND)}")
    text = html(client.get("/"))
    assert "الأكثر قراءة" in text
    popular = text.split('id="popular-title"')[1].split("</ol>")[0]
    assert re.search(r'href="(/articles/[^"]+)"', popular).group(1) == "/articles/" + quote(REFUND)


def test_category_page_lists_only_its_public_articles(client):
    response = client.get("/categories/quality-and-team")
    linked = slugs_linked(parse(response))
    assert "measuring-satisfaction-and-customer-feedback" in linked
    assert not linked & set(HIDDEN)
    assert "مسار التنقل" in html(response)


# -- article pages -----------------------------------------------------------------------------------


def test_article_page_has_everything_a_reader_needs(client, session_kb):
    response = client.get(f"/articles/{ANGRY}")
    text = html(response)
    page = parse(response)
    article = session_kb.catalog.articles[ANGRY]
    assert page.root == {"lang": "ar", "dir": "rtl"}
    assert page.meta["description"] == article.summary
    canonical = [link["href"] for link in page.links if link.get("rel") == "canonical"]
    assert canonical == [f"http://127.0.0.1:5000/articles/{ANGRY}"]
    assert 'class="toc"' in text and 'href="#' in text
    assert 'aria-label="مسار التنقل"' in text and 'href="/categories/complaints-and-angry-customers"' in text
    assert '<time datetime="2026-11-20">20 نوفمبر 2026</time>' in text
    assert 'id="faq"' in text and text.count('class="faq-item"') == len(article.faq)
    assert 'id="feedback"' in text and 'name="helpful" value="yes"' in text
    assert "mailto:help@example.com" in text
    related = text.split('id="related-title"')[1].split("</aside>")[0]
    related_slugs = {unquote(m) for m in re.findall(r'href="/articles/([^"#]+)"', related)}
    assert related_slugs and ANGRY not in related_slugs and not related_slugs & set(HIDDEN)


def test_article_headings_match_search_section_links(client, session_kb):
    hits = session_kb.search("كيف أرد على تقييم سلبي", limit=5)
    hit = next(h for h in hits if h.section_url and "#faq" not in h.section_url)
    anchor = unquote(hit.section_url.split("#", 1)[1])
    assert f'id="{anchor}"' in html(client.get(hit.url))


def test_article_body_is_sanitized_and_mixed_direction(client):
    text = html(client.get(f"/articles/{ANGRY}"))
    body = text.split('class="article-body"')[1].split('id="faq"')[0]
    assert 'dir="auto"' in body
    assert "<script" not in body and "onerror" not in body


def test_english_translation_is_ltr_with_hreflang_both_ways(client):
    english = client.get(f"/articles/{REVIEWS_EN}")
    page = parse(english)
    assert page.root == {"lang": "en", "dir": "ltr"}
    assert "Was this article helpful?" in html(english)
    alternates = {link["hreflang"]: link["href"] for link in page.links if link.get("rel") == "alternate"}
    assert alternates == {"en": f"http://127.0.0.1:5000/articles/{REVIEWS_EN}",
                          "ar": f"http://127.0.0.1:5000/articles/{REVIEWS_AR}"}
    arabic = parse(client.get(f"/articles/{REVIEWS_AR}"))
    alternates = {link["hreflang"]: link["href"] for link in arabic.links if link.get("rel") == "alternate"}
    assert set(alternates) == {"ar", "en"}


def test_arabic_slug_urls_are_percent_encoded_both_ways(client):
    encoded = "/articles/" + quote(REFUND, safe="")
    assert client.get(encoded).status_code == 200
    assert client.get(f"/articles/{REFUND}").status_code == 200  # an unencoded path decodes the same
    page = parse(client.get("/categories/orders"))
    assert encoded in page.hrefs
    assert all(ord(ch) < 128 for href in page.hrefs for ch in href)
    canonical = [link["href"] for link in parse(client.get(encoded)).links if link.get("rel") == "canonical"]
    assert canonical == ["http://127.0.0.1:5000" + encoded]


def test_staff_preview_hook_can_see_drafts(app):
    """GIVEN a request where the staff blueprint signed someone in (g.staff_user)
    WHEN it opens a draft THEN the page renders; customers still get 404."""
    from flask import g

    @app.before_request
    def pretend_staff():
        g.staff_user = "editor"

    assert app.test_client().get(f"/articles/{DRAFT}").status_code == 200


# -- JSON-LD, sitemap, robots --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/faq", f"/articles/{ANGRY}", "/categories/orders"])
def test_jsonld_blocks_are_valid_json(client, path):
    blocks = [json.loads(block) for block in parse(client.get(path)).jsonld]
    assert blocks and all(block["@context"] == "https://schema.org" for block in blocks)


def test_jsonld_cannot_close_its_script_tag(app):
    from flask import render_template

    hostile = "</script><script>alert(1)</script>"
    with app.test_request_context("/"):
        page = render_template("base.html", jsonld=[{"@context": "https://schema.org", "name": hostile}])
    assert hostile not in page
    block = page.split('type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(block)["name"] == hostile


def test_faq_page_gathers_every_public_faq_entry(client, session_kb):
    response = client.get("/faq")
    public = [a for a in session_kb.catalog.articles.values() if a.is_public]
    translations = build_public_catalog(public, session_kb.catalog.categories).translations
    expected = sum(len(a.faq) for a in in_language(public, "ar", translations))  # a translated pair once
    (faq_page,) = [json.loads(b) for b in parse(response).jsonld]
    assert faq_page["@type"] == "FAQPage"
    assert len(faq_page["mainEntity"]) == expected
    assert all(q["acceptedAnswer"]["text"] for q in faq_page["mainEntity"])
    assert html(response).count("<details") == expected
    hidden_questions = [e.q for slug in HIDDEN for e in session_kb.catalog.articles[slug].faq]
    assert hidden_questions and not any(q in html(response) for q in hidden_questions)


def test_big_faq_shows_a_preview_per_category_with_category_pages(client, monkeypatch):
    """GIVEN more FAQ entries than one page should hold WHEN /faq is opened THEN each category
    shows its first questions and links to /faq/<category>, which pages through the rest."""
    monkeypatch.setattr("kb.web.site.FAQ_ALL_LIMIT", 5)
    monkeypatch.setattr("kb.web.site.FAQ_PREVIEW", 2)
    monkeypatch.setattr("kb.web.site.FAQ_PAGE_SIZE", 10)
    overview = html(client.get("/faq"))
    assert 'href="/faq/complaints-and-angry-customers"' in overview
    groups = overview.count('class="faq-group"')
    assert groups < overview.count("<details") <= 2 * groups
    first = client.get("/faq/complaints-and-angry-customers")
    assert first.status_code == 200 and html(first).count("<details") == 10 and 'rel="next"' in html(first)
    (faq_page,) = [json.loads(b) for b in parse(first).jsonld]
    assert len(faq_page["mainEntity"]) == 10
    second = client.get("/faq/complaints-and-angry-customers?page=2")
    assert second.status_code == 200 and 'rel="prev"' in html(second)
    past_end = client.get("/faq/complaints-and-angry-customers?page=9")  # an old link: the last page, not a 404
    assert past_end.status_code == 302 and past_end.headers["Location"].endswith("/faq/complaints-and-angry-customers?page=2")
    assert client.get("/faq/no-such-category").status_code == 404


def test_category_pages_are_paginated(client, monkeypatch):
    monkeypatch.setattr("kb.web.site.CATEGORY_PAGE_SIZE", 2)
    first = client.get("/categories/complaints-and-angry-customers")
    assert len(slugs_linked(parse(first))) >= 2 and 'rel="next"' in html(first)
    second = client.get("/categories/complaints-and-angry-customers?page=2")
    assert second.status_code == 200
    canonical = [link["href"] for link in parse(second).links if link.get("rel") == "canonical"]
    assert canonical == ["http://127.0.0.1:5000/ar/categories/complaints-and-angry-customers?page=2"]


def test_sitemap_lists_public_pages_with_hreflang(client, session_kb):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    root = ElementTree.fromstring(response.data)
    locs = [url.findtext("s:loc", namespaces=ns) for url in root.findall("s:url", ns)]
    public = [a for a in session_kb.catalog.articles.values() if a.is_public]
    for article in public:
        assert "http://127.0.0.1:5000" + article.url in locs
    assert not any(quote(slug) in loc for slug in HIDDEN for loc in locs)
    assert all(loc.startswith("http://127.0.0.1:5000/") for loc in locs)
    english = next(u for u in root.findall("s:url", ns) if u.findtext("s:loc", namespaces=ns).endswith(REVIEWS_EN))
    assert {link.get("hreflang") for link in english.findall("x:link", ns)} == {"ar", "en"}


def test_robots_txt_points_to_the_sitemap(client):
    text = html(client.get("/robots.txt"))
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in text and "Disallow: /search" in text


# -- search ---------------------------------------------------------------------------------------


def test_search_results_keep_the_query_and_highlight_the_match(client):
    response = client.get("/search", query_string={"q": "العميل الغاضب"})
    text = html(response)
    assert 'value="العميل الغاضب"' in text
    assert "<mark>" in text
    assert 'class="result-count"' in text  # "نتيجتان", "3 نتائج" ...: only the articles that answer
    assert 'class="result-section"' in text and "section=" in text
    assert parse(response).meta["robots"] == "noindex"
    assert ANGRY in slugs_linked(parse(response))


def test_search_never_shows_drafts_or_internal(client):
    for query in ("مؤشرات الأداء", "أوقات الاستجابة والتصعيد", "KPI", "التصعيد"):
        linked = slugs_linked(parse(client.get("/search", query_string={"q": query})))
        assert not linked & set(HIDDEN), query


def test_search_query_is_escaped(client):
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    text = html(client.get("/search", query_string={"q": attack}))
    assert "<script>alert(1)" not in text and "<img src=x" not in text
    assert "&lt;script&gt;" in text


def test_category_filter_restricts_results(client, session_kb):
    response = client.get("/search", query_string={"q": "العميل", "category": "orders"})
    linked = slugs_linked(parse(response))
    assert linked and all(session_kb.catalog.articles[s].category_slug == "orders" for s in linked)
    assert '<option value="orders" selected>' in html(response)


def _result_count(response) -> str:
    return re.search(r'<p class="result-count"[^>]*>(.*?)</p>', html(response), re.S).group(1)


def test_an_unknown_section_searches_every_section_and_says_so(client, app):
    """GIVEN a search link naming a section the help center does not have (the API answers
    it with a 400) WHEN a reader opens it THEN every section is searched, with the count of
    every section, the page says the section was not found, the filter shows every section,
    and the search is recorded without a section and with its real count (no made-up gap)."""
    everything = client.get("/search", query_string={"q": "العميل"})
    unknown = client.get("/search", query_string={"q": "العميل", "category": "no-such-section"})
    assert unknown.status_code == 200
    page = html(unknown)
    notice = re.search(r'<p class="section-not-found" role="status">(.*?)</p>', page, re.S).group(1)
    assert "<bdi>no-such-section</bdi>" in notice
    assert slugs_linked(parse(unknown)) == slugs_linked(parse(everything))
    assert _result_count(unknown) == _result_count(everything) and "القسم" not in _result_count(unknown)
    assert " selected>" not in page.split('name="category"', 1)[1].split("</select>", 1)[0]
    searches = app.extensions["kb_db"].connection().execute(
        "SELECT query, result_count, category FROM searches ORDER BY id").fetchall()
    everything_row, unknown_row = (tuple(row) for row in searches[-2:])
    assert unknown_row == everything_row == ("العميل", everything_row[1], None) and everything_row[1] > 0
    english = html(client.get("/en/search", query_string={"q": "refund", "category": "<b>nope</b>"}))
    assert "The help center has no section “<bdi>&lt;b&gt;nope&lt;/b&gt;</bdi>”, so these results are from every " \
           "section." in english
    before_searching = html(client.get("/en/search", query_string={"category": "nope"}))
    assert "your search will look in every section" in before_searching


def test_a_renamed_sections_old_slug_still_filters(client, app, session_kb):
    """GIVEN a section renamed from "refunds" to "orders" (a redirect, as the staff editor
    leaves) WHEN a search link with the old slug is opened THEN it searches "orders"."""
    from kb.content import redirects

    redirects.add(app.extensions["kb_db"].connection(), "/categories/refunds", "/categories/orders")
    response = client.get("/search", query_string={"q": "العميل", "category": "refunds"})
    linked = slugs_linked(parse(response))
    assert linked and all(session_kb.catalog.articles[s].category_slug == "orders" for s in linked)
    assert '<option value="orders" selected>' in html(response) and "section-not-found" not in html(response)


def test_pagination_links_to_the_next_page(client, monkeypatch):
    monkeypatch.setattr("kb.web.site_search.PAGE_SIZE", 3)
    first = html(client.get("/search", query_string={"q": "العميل"}))
    assert 'rel="next"' in first and "page=2" in first
    second = client.get("/search", query_string={"q": "العميل", "page": 2})
    assert second.status_code == 200 and 'aria-current="page">2<' in html(second)
    assert client.get("/search", query_string={"q": "العميل", "page": "abc"}).status_code == 200


def test_did_you_mean_links_to_the_corrected_search(client, session_kb, monkeypatch):
    monkeypatch.setattr(session_kb, "search_page", lambda *a, **k: SearchPage([], 0, "العميل الغاضب", "hybrid"))
    text = html(client.get("/search", query_string={"q": "العمبل الغاضب"}))
    assert "هل تقصد" in text and "q=%D8%A7%D9%84%D8%B9%D9%85%D9%8A%D9%84" in text


@BOTH_DATABASES
def test_no_results_page_helps(client, session_kb, monkeypatch):
    monkeypatch.setattr(session_kb, "search_page", lambda *a, **k: SearchPage([], 0, None, "hybrid"))
    response = client.get("/search", query_string={"q": "كلمة لا توجد"})
    text = html(response)
    assert response.status_code == 200
    assert "لم نجد نتائج" in text and "مقالات شائعة" in text and "تواصل مع فريق الدعم" in text
    assert app_analytics(client).zero_result_queries()[0].normalized == "كلمه لا توجد"


def app_analytics(client):
    return client.application.extensions["kb_analytics"]


@BOTH_DATABASES
def test_search_is_recorded_and_the_click_redirects_to_the_section(client):
    response = client.get("/search", query_string={"q": "عميل غاضب"})
    click = next(h for h in parse(response).hrefs if h.startswith("/search/click") and "section=" in h)
    redirect = client.get(click)
    assert redirect.status_code == 303
    location = redirect.headers["Location"]
    assert re.match(r"^/articles/[^#]+#.+", location)
    (stat,) = app_analytics(client).top_queries()
    assert stat.normalized == "عميل غاضب" and stat.searches == 1 and stat.clicks == 1
    slug = unquote(location.split("/articles/")[1].split("#")[0])
    target = client.get(location.split("#")[0])
    assert target.status_code == 200 and slug


def test_suggestions_are_json_and_public_only(client):
    response = client.get("/search/suggest", query_string={"q": "عميل غا"})
    assert response.mimetype == "application/json"
    suggestions = response.get_json()["suggestions"]
    assert suggestions and all(s["url"].startswith("/articles/") for s in suggestions)
    assert {"title", "url", "section", "category", "lang"} <= set(suggestions[0])
    for query in ("مؤشرات", "التصعيد", "KPI"):
        urls = [s["url"] for s in client.get("/search/suggest", query_string={"q": query}).get_json()["suggestions"]]
        assert not any(quote(slug) in url for slug in HIDDEN for url in urls)
    assert client.get("/search/suggest", query_string={"q": "ع"}).get_json()["suggestions"] == []


# -- feedback and CSRF ------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
])
def test_a_vote_sent_from_another_site_is_refused(client, headers):
    """The vote needs no session (reading an article sets no cookie): the browser's own
    origin headers must name this site instead (kb.web.security.public_form)."""
    response = client.post(f"/articles/{ANGRY}/feedback", data={"helpful": "yes"}, headers=headers)
    assert response.status_code == 400
    assert parse(response).root["lang"] == "ar" and "من خارج الموقع" in html(response)


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", "/search", {"GET", "HEAD", "OPTIONS"}),
    ("POST", "/faq", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", "/en/faq", {"GET", "HEAD", "OPTIONS"}),
    ("DELETE", f"/ar/articles/{ANGRY}", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", f"/articles/{ANGRY}/feedback", {"POST", "OPTIONS"}),
    ("TRACE", "/", {"GET", "HEAD", "OPTIONS"}),
])
def test_a_method_no_route_takes_is_405_with_allow_not_a_csrf_error(client, method, path, allowed):
    """GIVEN a site page WHEN a method it does not take is sent (no session, no token) THEN 405 with
    the methods it takes in Allow: the CSRF check is for requests a view would act on."""
    response = client.open(path, method=method)
    assert response.status_code == 405, html(response)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed
    assert "من خارج الموقع" not in html(response)


def test_a_post_to_a_path_no_route_has_is_404(client):
    assert client.post("/no-such-page", data={"x": "1"}).status_code == 404


def test_routes_that_take_a_post_still_need_the_token_or_this_sites_origin(client):
    """The CSRF check still runs where a view would act: the vote (from another site) and a staff form."""
    vote = client.post(f"/articles/{ANGRY}/feedback", data={"helpful": "yes"}, headers={"Origin": "https://evil.example"})
    assert vote.status_code == 400 and "من خارج الموقع" in html(vote)
    sign_in = client.post("/staff/login", data={"email": "a@example.com", "password": "x"})
    assert sign_in.status_code == 400 and "انتهت صلاحية النموذج" in html(sign_in)


@BOTH_DATABASES
def test_vote_once_per_visitor_then_comment_after_no(client):
    token = csrf_from(client.get(f"/articles/{ANGRY}"))
    response = client.post(f"/articles/{ANGRY}/feedback", data={"helpful": "no", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/articles/{ANGRY}#feedback")
    page = html(client.get(f"/articles/{ANGRY}"))
    assert "نأسف لأن المقالة لم تساعدك" in page and 'name="comment"' in page and "mailto:help@example.com" in page
    client.post(f"/articles/{ANGRY}/feedback", data={"helpful": "yes", "csrf_token": token})  # ignored: voted already
    client.post(f"/articles/{ANGRY}/feedback", data={"comment": "<b>ينقصها</b> مثال", "csrf_token": token})
    (votes,) = app_analytics(client).least_helpful_articles()
    assert (votes.slug, votes.helpful, votes.not_helpful) == (ANGRY, 0, 1)
    assert votes.comments[0][2] == "<b>ينقصها</b> مثال"  # stored as typed; escaped wherever shown
    assert "وصلنا تعليقك" in html(client.get(f"/articles/{ANGRY}"))


@BOTH_DATABASES
def test_vote_as_json_for_the_script(client):
    token = csrf_from(client.get(f"/articles/{REVIEWS_AR}"))
    response = client.post(f"/articles/{REVIEWS_AR}/feedback", data={"helpful": "yes"},
                           headers={"Accept": "application/json", "X-CSRF-Token": token})
    assert response.get_json() == {"recorded": True, "vote": {"helpful": True, "comment": None}}


@pytest.mark.parametrize("data, field", [
    ({"helpful": "maybe"}, "helpful"),
    ({"helpful": "no", "comment": "x" * 501}, "comment"),
    ({}, "helpful"),
])
def test_bad_feedback_is_rejected(client, data, field):
    token = csrf_from(client.get(f"/articles/{ANGRY}"))
    response = client.post(f"/articles/{ANGRY}/feedback", data={**data, "csrf_token": token})
    assert response.status_code == 400
    assert app_analytics(client).article_votes(ANGRY).votes == 0


def test_cannot_vote_on_hidden_articles(client):
    token = csrf_from(client.get(f"/articles/{ANGRY}"))
    for slug in HIDDEN:
        assert client.post(f"/articles/{slug}/feedback", data={"helpful": "yes", "csrf_token": token}).status_code == 404


# -- rate limits, cookies, errors ----------------------------------------------------------------


@pytest.fixture
def limited_app(session_kb, tmp_path, app_database_url):
    settings = make_settings(tmp_path, site_rate_limit=2, database_url=app_database_url).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    return create_app(settings, knowledge=session_kb, test_config={"TESTING": True})


@BOTH_DATABASES
def test_searches_and_votes_are_rate_limited_per_client(limited_app):
    client = limited_app.test_client()
    statuses = [client.get("/search", query_string={"q": f"عميل {i}"}).status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.get("/search", query_string={"q": "عميل"})
    assert "طلبات كثيرة" in html(limited) and int(limited.headers["Retry-After"]) > 0
    other = limited_app.test_client()
    assert other.get("/search", query_string={"q": "عميل"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    token = csrf_from(client.get(f"/articles/{ANGRY}"))
    votes = [client.post(f"/articles/{slug}/feedback", data={"helpful": "yes", "csrf_token": token}).status_code
             for slug in (ANGRY, REVIEWS_AR, REFUND)]
    assert votes == [303, 303, 429]


def test_session_cookie_flags(client, session_kb, tmp_path):
    """The first cookie a reader gets is the one their vote sets (reading sets none)."""
    response = client.post(f"/articles/{ANGRY}/feedback", data={"helpful": "yes"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    settings = make_settings(tmp_path, base_url="https://help.example.com").with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    secure = create_app(settings, knowledge=session_kb, test_config={"TESTING": True})
    voted = secure.test_client().post(f"/articles/{ANGRY}/feedback", data={"helpful": "yes"})
    assert "Secure" in voted.headers["Set-Cookie"]


def test_api_errors_are_json_never_html(app):
    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.get("/_boom")
    def page_boom():
        raise RuntimeError("kaboom")

    client = app.test_client()
    missing = client.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/health")
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "application/json"
    too_big = client.post("/api/v1/no-such-endpoint", data=b"x" * (3 * 1024 * 1024))
    assert too_big.mimetype == "application/json" and too_big.status_code in (404, 413)
    crashed = client.get("/api/v1/_boom")
    assert crashed.status_code == 500
    assert crashed.get_json() == {"error": {"code": "internal_error", "message": "An internal error occurred."}}
    page = client.get("/_boom")
    assert page.status_code == 500 and "حدث خطأ غير متوقع" in html(page) and "kaboom" not in html(page)


def test_large_form_posts_get_an_arabic_413(client):
    response = client.post("/search", data={"q": "x" * (3 * 1024 * 1024)})
    assert response.status_code in (400, 405, 413)
    assert parse(response).root["lang"] == "ar"


def test_api_posts_do_not_need_csrf(client):
    response = client.post("/api/v1/suggest", json={"conversation": "مرحبا"})
    assert response.status_code != 400 or response.get_json()["error"]["code"] != "csrf_failed"


def test_client_key_hides_the_address(app):
    from kb.web.security import client_key

    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        key = client_key()
    assert "203" not in key and len(key) == 32
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.8"}):
        assert client_key() != key


def test_static_assets_are_local_and_cacheable(client):
    text = html(client.get("/"))
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', text)
    assert any("site.css" in a for a in assets) and any("site.js" in a for a in assets)
    external = [u for u in re.findall(r'(?:href|src)="([^"]+)"', text) if re.match(r"^(https?:)?//", u)]
    assert all(u.startswith("http://127.0.0.1:5000/") for u in external)  # only our own canonical URL
    css = client.get(next(a for a in assets if "site.css" in a))
    assert css.status_code == 200 and "IBM Plex Sans Arabic" in html(css)
    assert "url(http" not in html(css) and "@import" not in html(css)
    font = client.get("/static/fonts/ibm-plex-sans-arabic-arabic-400-normal.woff2")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"


def test_public_catalog_is_rebuilt_when_the_catalog_changes(session_kb):
    """GIVEN a cached grouping WHEN an article is added (or the cache is invalidated)
    THEN the next read sees it; an unchanged catalog is not regrouped."""
    from dataclasses import replace
    from types import SimpleNamespace

    from kb.content.articles import Catalog
    from kb.web.pages import PublicCatalogCache

    articles = dict(session_kb.catalog.articles)
    fake = SimpleNamespace(catalog=Catalog(articles=articles, categories=dict(session_kb.catalog.categories)))
    cache = PublicCatalogCache()
    first = cache.get(fake)
    assert cache.get(fake) is first
    articles["new-one"] = replace(session_kb.catalog.articles[ANGRY], slug="new-one")
    assert "new-one" in cache.get(fake).articles
    again = cache.get(fake)
    cache.invalidate()
    assert cache.get(fake) is not again

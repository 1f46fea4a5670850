"""Interface language over HTTP: chosen by the URL, then the browser, then the setting; the
switcher keeps the page; canonical and hreflang links; dir and lang; the staff area.

Against the session knowledge base (real index) through Flask's test client.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import quote
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from conftest import make_settings
from staff_fixtures import EDITOR
from staff_fixtures import StaffClient
from staff_fixtures import cheap_hashing  # noqa: F401 - fixture
from staff_fixtures import staff_app  # noqa: F401 - fixture
from test_site import html
from test_site import parse

from kb.errors import KbError
from kb.web import create_app

ANGRY = "handling-angry-customers"  # Arabic, no translation
REVIEWS_AR = "responding-to-negative-reviews"
REVIEWS_EN = "responding-to-negative-reviews-en"  # translation_of REVIEWS_AR
BASE = "http://127.0.0.1:5000"


def switcher(response) -> dict[str, str | None]:
    """lang -> href of the language switcher (None for the current language)."""
    nav = re.search(r'<nav class="language-switcher".*?</nav>', html(response), re.S).group(0)
    links = {lang: unescape(href) for href, lang in re.findall(r'<a href="([^"]*)" hreflang="([^"]+)"', nav)}
    current = re.findall(r'<span aria-current="true" lang="([^"]+)"', nav)
    assert len(current) == 1
    links[current[0]] = None
    return links


def alternates(response) -> dict[str, str]:
    return {link["hreflang"]: link["href"] for link in parse(response).links if link.get("rel") == "alternate"}


def canonical(response) -> str:
    (url,) = [link["href"] for link in parse(response).links if link.get("rel") == "canonical"]
    return url


# -- where the language comes from -----------------------------------------------------------------


@pytest.mark.parametrize("path, lang, direction, words", [
    ("/en/", "en", "ltr", "Browse by section"),
    ("/ar/", "ar", "rtl", "تصفح حسب القسم"),
    ("/en/faq", "en", "ltr", "Select a question to show its answer."),
    ("/ar/faq", "ar", "rtl", "اضغط على السؤال لعرض الإجابة."),
    ("/en/search?q=refund", "en", "ltr", "Search results"),
    ("/en/categories/complaints-and-angry-customers", "en", "ltr", "Frequently asked questions in this section"),
])
def test_url_prefix_sets_language_direction_and_words(client, path, lang, direction, words):
    response = client.get(path, headers={"Accept-Language": "ar" if lang == "en" else "en"})  # the URL wins
    assert response.status_code == 200
    assert parse(response).root == {"lang": lang, "dir": direction}
    assert words in html(response)
    assert response.headers["Content-Language"] == lang
    assert "Accept-Language" not in response.headers.get("Vary", "")


def test_no_prefix_follows_the_browser_then_the_default(client):
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,ar;q=0.5"})
    assert parse(english).root == {"lang": "en", "dir": "ltr"} and "Browse by section" in html(english)
    assert "Accept-Language" in english.headers["Vary"]
    assert canonical(english) == f"{BASE}/en/"
    unknown = client.get("/", headers={"Accept-Language": "fr-FR,de;q=0.8"})
    assert parse(unknown).root == {"lang": "ar", "dir": "rtl"}  # default_language
    assert parse(client.get("/")).root["lang"] == "ar"


def test_default_language_setting(session_kb, tmp_path):
    settings = make_settings(tmp_path, default_language="en").with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    client = create_app(settings, knowledge=session_kb, test_config={"TESTING": True}).test_client()
    assert parse(client.get("/faq")).root == {"lang": "en", "dir": "ltr"}
    assert parse(client.get("/faq", headers={"Accept-Language": "ar"})).root["lang"] == "ar"


def test_default_language_without_a_catalog_is_a_clear_error(session_kb, tmp_path):
    settings = make_settings(tmp_path, default_language="fr")
    with pytest.raises(KbError) as error:
        create_app(settings, knowledge=session_kb)
    assert error.value.field == "default_language" and "ar, en" in error.value.message


def test_prefix_without_slash_redirects(client):
    response = client.get("/en")
    assert response.status_code == 308 and response.headers["Location"] == "/en/"


def test_links_keep_the_chosen_language_and_static_files_do_not(client):
    page = parse(client.get("/en/faq"))
    assert "/en/" in page.hrefs and "/en/faq" in page.hrefs and "/en/sitemap.xml" in page.hrefs
    text = html(client.get("/en/faq"))
    assert re.search(r'<form class="search-form[^"]*" role="search" action="/en/search"', text)
    assert 'src="/static/js/site.js?v=' in text and '"/en/static/' not in text
    unprefixed = parse(client.get("/faq"))
    assert "/faq" in unprefixed.hrefs and not any(h.startswith("/en/") for h in unprefixed.hrefs if h != "/en/faq")


@pytest.mark.parametrize("path", ["/en/", "/en/faq"])
def test_category_links_keep_the_chosen_language(client, path):
    """The home page's and the FAQ page's section links used to drop the /en/ prefix, so an
    English reader whose browser prefers Arabic landed on an Arabic category page."""
    categories = [href for href in parse(client.get(path)).hrefs if "/categories/" in href]
    assert categories and all(href.startswith("/en/categories/") for href in categories)


# -- articles ------------------------------------------------------------------------------------


def test_article_url_shows_it_in_its_own_language(client):
    english = client.get(f"/articles/{REVIEWS_EN}", headers={"Accept-Language": "ar"})
    assert parse(english).root == {"lang": "en", "dir": "ltr"} and "Was this article helpful?" in html(english)
    arabic = client.get(f"/articles/{ANGRY}", headers={"Accept-Language": "en"})
    assert parse(arabic).root == {"lang": "ar", "dir": "rtl"} and "هل كانت هذه المقالة مفيدة؟" in html(arabic)
    assert "Accept-Language" not in arabic.headers.get("Vary", "")


def test_switcher_on_an_article_goes_to_its_translation(client):
    assert switcher(client.get(f"/articles/{REVIEWS_AR}")) == {"ar": None, "en": f"/articles/{REVIEWS_EN}"}
    assert switcher(client.get(f"/articles/{REVIEWS_EN}")) == {"en": None, "ar": f"/articles/{REVIEWS_AR}"}


def test_switcher_on_an_untranslated_article_keeps_it_in_the_other_language(client):
    assert switcher(client.get(f"/articles/{ANGRY}")) == {"ar": None, "en": f"/en/articles/{ANGRY}"}
    chrome = client.get(f"/en/articles/{ANGRY}")
    assert chrome.status_code == 200
    assert parse(chrome).root == {"lang": "en", "dir": "ltr"}
    assert re.search(r'<article class="article" lang="ar" dir="rtl"', html(chrome))  # the content keeps its own
    assert "Was this article helpful?" in html(chrome) and "In this article" in html(chrome)
    assert canonical(chrome) == f"{BASE}/articles/{ANGRY}"  # one article, one canonical URL
    assert switcher(chrome) == {"en": None, "ar": f"/articles/{ANGRY}"}


def test_hreflang_between_translations(client):
    expected = {"ar": f"{BASE}/articles/{REVIEWS_AR}", "en": f"{BASE}/articles/{REVIEWS_EN}"}
    assert alternates(client.get(f"/articles/{REVIEWS_AR}")) == expected
    assert alternates(client.get(f"/en/articles/{REVIEWS_AR}")) == expected
    assert alternates(client.get(f"/articles/{ANGRY}")) == {}


def test_english_article_dates_and_breadcrumbs_follow_the_interface(client):
    text = html(client.get(f"/en/articles/{ANGRY}"))
    assert "Last updated" in text and re.search(r"(January|February|March|April|May|June|July|August|September|"
                                                r"October|November|December) \d{1,2}, \d{4}", text)
    assert f'href="/en/categories/complaints-and-angry-customers"' in text


# -- pages without a language of their own ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/faq", "/categories/complaints-and-angry-customers"])
def test_language_pages_have_prefixed_canonical_and_hreflang_with_x_default(client, path):
    for lang in ("ar", "en"):
        response = client.get(f"/{lang}{path}")
        assert canonical(response) == f"{BASE}/{lang}{path}"
        assert alternates(response) == {"ar": f"{BASE}/ar{path}", "en": f"{BASE}/en{path}", "x-default": BASE + path}


def test_switcher_keeps_the_page_and_its_query(client):
    assert switcher(client.get("/en/faq")) == {"en": None, "ar": "/ar/faq"}
    links = switcher(client.get("/ar/search", query_string={"q": "استرداد المبلغ", "page": "1"}))
    assert links["ar"] is None and links["en"] == "/en/search?q=" + quote("استرداد المبلغ").replace("%20", "+") + "&page=1"
    missing = client.get("/en/no-such-page")
    assert missing.status_code == 404 and switcher(missing)["ar"] == "/ar/no-such-page"
    assert "Page not found" in html(missing)


def test_english_home_lists_english_articles_first_and_a_pair_once(client):
    text = html(client.get("/en/"))
    latest = text.split('id="popular-title"')[1].split("</ol>")[0]
    slugs = re.findall(r'href="(?:/en)?/articles/([^"]+)"', latest)
    assert slugs[0] == REVIEWS_EN  # the only English article comes first
    assert REVIEWS_AR not in slugs  # its Arabic original is not listed again
    arabic = html(client.get("/ar/")).split('id="popular-title"')[1].split("</ol>")[0]
    assert REVIEWS_EN not in re.findall(r'href="/articles/([^"]+)"', arabic)


def test_faq_shows_a_translated_pair_in_the_page_language(client, session_kb):
    """GIVEN an Arabic article and its English translation, both with FAQ entries WHEN the FAQ
    opens in each language THEN each shows the pair's entries once, in its own language."""
    def questions(response) -> set[str]:
        return {entry["name"] for block in parse(response).jsonld for entry in json.loads(block)["mainEntity"]}

    arabic_pair = {entry.q for entry in session_kb.catalog.articles[REVIEWS_AR].faq}
    english_pair = {entry.q for entry in session_kb.catalog.articles[REVIEWS_EN].faq}
    assert arabic_pair and english_pair
    english, arabic = questions(client.get("/en/faq")), questions(client.get("/ar/faq"))
    assert english_pair <= english and not arabic_pair & english
    assert arabic_pair <= arabic and not english_pair & arabic
    assert len(english) == len(arabic)  # every other (untranslated) entry is on both


def test_sitemap_lists_each_language_page_with_alternates(client):
    root = ElementTree.fromstring(client.get("/sitemap.xml").data)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    locs = {url.find("s:loc", ns).text: url for url in root.findall("s:url", ns)}
    assert f"{BASE}/ar/faq" in locs and f"{BASE}/en/faq" in locs
    links = {link.get("hreflang"): link.get("href") for link in locs[f"{BASE}/en/faq"].findall("x:link", ns)}
    assert links == {"ar": f"{BASE}/ar/faq", "en": f"{BASE}/en/faq", "x-default": f"{BASE}/faq"}


def test_feedback_errors_in_the_page_language(client):
    response = client.post(f"/en/articles/{ANGRY}/feedback", data={"helpful": "maybe"},
                           headers={"Accept": "application/json", "Origin": "http://localhost"})
    assert response.status_code == 400
    assert "Choose" in html(response) and "اختر" not in html(response)


# -- staff -------------------------------------------------------------------------------------------


def test_staff_sign_in_page_in_either_language(staff_app):
    client = staff_app.test_client()
    english = client.get("/en/staff/login")
    assert parse(english).root == {"lang": "en", "dir": "ltr"} and "Staff sign-in" in html(english)
    arabic = client.get("/staff/login")
    assert parse(arabic).root == {"lang": "ar", "dir": "rtl"} and "تسجيل دخول الموظفين" in html(arabic)
    assert switcher(arabic)["en"] == "/en/staff/login"


def test_staff_keep_the_language_they_chose_through_sign_in_and_forms(staff_app):
    staff = StaffClient(staff_app.test_client())
    to_login = staff.client.get("/en/staff/articles")
    assert to_login.status_code == 302 and "next=/en/staff/articles" in unquote(to_login.headers["Location"])
    staff.refresh_token("/en/staff/login")
    signed_in = staff.client.post("/en/staff/login", data={"email": EDITOR[0], "password": EDITOR[1], "next": "/en/staff/articles",
                                                           "csrf_token": staff.token})
    assert signed_in.headers["Location"] == "/en/staff/articles"
    staff.refresh_token("/en/staff/account")  # a new session, a new token
    page = staff.client.get("/en/staff/articles")
    text = html(page)
    assert parse(page).root == {"lang": "en", "dir": "ltr"}
    assert "+ New article" in text and "Sign out" in text and "All statuses" in text
    assert 'href="/en/staff/categories"' in text
    saved = staff.client.post("/en/staff/synonyms", data={"synonyms": "refund, money back", "csrf_token": staff.token})
    assert saved.headers["Location"] == "/en/staff/synonyms"
    assert "The synonyms were saved (1 group)" in html(staff.client.get("/en/staff/synonyms"))
    arabic = html(staff.client.get("/staff/articles"))
    assert "+ مقال جديد" in arabic  # the unprefixed page: the browser's language, then the default


def test_robots_keeps_search_and_staff_out_in_every_language(client):
    text = html(client.get("/robots.txt"))
    assert "Disallow: /en/search" in text and "Disallow: /ar/staff/" in text and "Disallow: /search" in text


def test_renamed_article_redirect_keeps_the_language(staff_app):
    from staff_fixtures import EDITOR as EDITOR_ACCOUNT

    editor = StaffClient(staff_app.test_client())
    assert editor.login(*EDITOR_ACCOUNT).status_code == 302
    form = editor.editor_form("positive-language")
    assert editor.post("/staff/articles/positive-language/edit", {**form, "slug": "kind-words", "action": "publish"}
                       ).status_code == 302
    old = staff_app.test_client().get("/en/articles/positive-language")
    assert old.status_code == 301 and old.headers["Location"] == "/en/articles/kind-words"

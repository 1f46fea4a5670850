"""Category names in the reader's language (kb.web.category_names) over HTTP: every page, the
JSON the pages fetch, the widget, the contact form, the agent panel and the API.

A copy of the test articles whose _categories.yml translates two categories: "complaints"
with an English name and description, "communication" with an English name only (its
description falls back to the Arabic one), and "orders" not at all (its Arabic name shows).
The index is the session's, copied: the categories file is not indexed.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml
from conftest import make_settings
from conftest import stop_app_loops
from test_agent_panel import CHATWOOT
from test_agent_panel import SECRET
from test_agent_panel import bearer
from test_site import html
from test_site import parse

from kb import KnowledgeBase
from kb import panel_links
from kb.web import create_app

COMPLAINTS_AR = "الشكاوى والعملاء الغاضبون"
COMPLAINTS_EN = "Complaints and angry customers"
COMPLAINTS_ABOUT_AR = "كيف تهدئ العميل الغاضب، وتدير الشكاوى والتقييمات السلبية، وتتفاوض على التعويض."
COMPLAINTS_ABOUT_EN = "How to calm an angry customer, handle complaints and negative reviews, and negotiate compensation."
COMMUNICATION_AR = "التواصل مع العملاء"
COMMUNICATION_EN = "Communicating with customers"
COMMUNICATION_ABOUT_AR = "كيف تكتب ردودًا واضحة وموجزة وإيجابية تُظهر التعاطف وتجيب عن طلبات العملاء."
ORDERS_AR = "الطلبات والاسترداد"
ANGRY = "handling-angry-customers"  # Arabic, in "complaints"
REVIEWS_EN = "responding-to-negative-reviews-en"  # English, in "complaints"
COMPLAINTS = "/categories/complaints-and-angry-customers"


@pytest.fixture(scope="module")
def app(session_kb, session_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("bilingual")
    shutil.copytree(session_dir / "articles", base / "articles")
    shutil.copytree(session_dir / "index", base / "index")
    path = base / "articles" / "_categories.yml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in entries:
        if entry["slug"] == "complaints-and-angry-customers":
            entry["translations"] = {"en": {"name": COMPLAINTS_EN, "description": COMPLAINTS_ABOUT_EN}}
        elif entry["slug"] == "communication":
            entry["translations"] = {"en": {"name": COMMUNICATION_EN}}
    path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = make_settings(base)
    knowledge = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    assert knowledge.catalog.problems == []
    app = create_app(settings, knowledge=knowledge, test_config={"TESTING": True})
    yield app
    stop_app_loops(app)
    knowledge.close()


@pytest.fixture
def client(app):
    return app.test_client()


def jsonld(response, kind: str) -> dict:
    (found,) = [data for data in map(json.loads, parse(response).jsonld) if data["@type"] == kind]
    return found


def meta_description(response) -> str:
    return parse(response).meta["description"]


# -- pages ---------------------------------------------------------------------------------------


def test_the_home_page_names_and_describes_sections_in_its_language(client):
    english, arabic = html(client.get("/en/")), html(client.get("/ar/"))
    assert COMPLAINTS_EN in english and COMPLAINTS_ABOUT_EN in english
    assert COMPLAINTS_AR not in english and COMPLAINTS_ABOUT_AR not in english
    assert COMPLAINTS_AR in arabic and COMPLAINTS_ABOUT_AR in arabic
    assert COMPLAINTS_EN not in arabic and COMPLAINTS_ABOUT_EN not in arabic


def test_without_a_translation_the_default_name_and_description_show(client):
    """GIVEN "communication" translated by name only and "orders" not at all WHEN an English
    page shows them THEN the English name with the Arabic description, and the Arabic name."""
    english = html(client.get("/en/"))
    assert COMMUNICATION_EN in english and COMMUNICATION_ABOUT_AR in english and COMMUNICATION_AR not in english
    assert ORDERS_AR in english


def test_the_category_page_in_english(client):
    response = client.get(f"/en{COMPLAINTS}")
    page = html(response)
    assert f"<title>{COMPLAINTS_EN}" in page and f"<h1>{COMPLAINTS_EN}</h1>" in page
    assert f'<p class="lead">{COMPLAINTS_ABOUT_EN}</p>' in page
    assert f'<span aria-current="page">{COMPLAINTS_EN}</span>' in page
    assert meta_description(response) == COMPLAINTS_ABOUT_EN
    assert jsonld(response, "BreadcrumbList")["itemListElement"][1]["name"] == COMPLAINTS_EN
    assert COMPLAINTS_AR not in page


def test_the_category_page_in_arabic(client):
    response = client.get(f"/ar{COMPLAINTS}")
    assert f"<h1>{COMPLAINTS_AR}</h1>" in html(response) and COMPLAINTS_EN not in html(response)
    assert jsonld(response, "BreadcrumbList")["itemListElement"][1]["name"] == COMPLAINTS_AR


def test_the_faq_pages_in_english(client):
    everything = html(client.get("/en/faq"))
    assert f'<a href="/en{COMPLAINTS}">{COMPLAINTS_EN}</a>' in everything and COMPLAINTS_AR not in everything
    one = client.get("/en/faq/complaints-and-angry-customers")
    assert f"Frequently asked questions: {COMPLAINTS_EN}" in html(one) and COMPLAINTS_AR not in html(one)
    assert meta_description(one) == f"Frequently asked questions in the section {COMPLAINTS_EN}."
    assert COMPLAINTS_AR in html(client.get("/ar/faq/complaints-and-angry-customers"))


def test_article_breadcrumbs_follow_the_page_and_its_section_follows_the_article(client):
    """The breadcrumbs are navigation (the page's language); the JSON-LD articleSection
    describes the article (its own language)."""
    english = client.get(f"/articles/{REVIEWS_EN}")
    assert f'dir="auto">{COMPLAINTS_EN}</a>' in html(english) and COMPLAINTS_AR not in html(english)
    assert jsonld(english, "Article")["articleSection"] == COMPLAINTS_EN
    arabic = client.get(f"/articles/{ANGRY}")
    assert f'dir="auto">{COMPLAINTS_AR}</a>' in html(arabic) and COMPLAINTS_EN not in html(arabic)
    assert jsonld(arabic, "Article")["articleSection"] == COMPLAINTS_AR
    inside_english = client.get(f"/en/articles/{ANGRY}")
    assert f'dir="auto">{COMPLAINTS_EN}</a>' in html(inside_english)
    assert jsonld(inside_english, "BreadcrumbList")["itemListElement"][1]["name"] == COMPLAINTS_EN
    assert jsonld(inside_english, "Article")["articleSection"] == COMPLAINTS_AR


def test_search_results_filter_and_count_name_the_section_in_english(client):
    page = html(client.get("/en/search", query_string={"q": "angry customer",
                                                       "category": "complaints-and-angry-customers"}))
    assert f'<option value="complaints-and-angry-customers" selected>{COMPLAINTS_EN}</option>' in page
    assert f"in the section “{COMPLAINTS_EN}”" in page
    assert f'dir="auto">{COMPLAINTS_EN}</a>' in page  # the result's chip
    assert COMPLAINTS_AR not in page
    arabic = html(client.get("/ar/search", query_string={"q": "العميل الغاضب"}))
    assert re.search(f'<option value="complaints-and-angry-customers" *>{COMPLAINTS_AR}</option>', arabic)
    assert COMPLAINTS_EN not in arabic


def test_popular_articles_name_their_section_in_the_page_language(client):
    page = html(client.get("/en/search"))
    chips = re.findall(r'<span class="chip" dir="auto">([^<]*)</span>', page)
    assert chips and COMPLAINTS_AR not in chips and COMMUNICATION_AR not in chips


# -- JSON ----------------------------------------------------------------------------------------


def test_suggestions_as_you_type_name_sections_in_the_page_language(client):
    english = client.get("/en/search/suggest", query_string={"q": "angry"}).get_json()["suggestions"]
    arabic = client.get("/ar/search/suggest", query_string={"q": "العميل الغاضب"}).get_json()["suggestions"]
    assert COMPLAINTS_EN in {s["category"] for s in english} and COMPLAINTS_AR not in {s["category"] for s in english}
    assert COMPLAINTS_AR in {s["category"] for s in arabic} and COMPLAINTS_EN not in {s["category"] for s in arabic}
    # The search box asks the URL of its page's language.
    assert 'data-suggest="/en/search/suggest"' in html(client.get("/en/"))


def test_the_widget_names_sections_in_its_language(client):
    for lang, name in (("en", COMPLAINTS_EN), ("ar", COMPLAINTS_AR)):
        results = client.get("/api/widget/search", query_string={"q": "angry customers complaints", "lang": lang})
        categories = {hit["category"] for hit in results.get_json()["results"]}
        assert name in categories, lang


def test_the_contact_form_names_sections_in_the_page_language(client):
    found = client.get("/en/contact/articles", query_string={"q": "negative reviews on social media"}).get_json()
    categories = {article["category"] for article in found["articles"]}
    assert COMPLAINTS_EN in categories and COMPLAINTS_AR not in categories


def test_the_api_names_a_hits_section_in_the_articles_language(client):
    english = client.get("/api/v1/search", query_string={"q": "negative reviews", "lang": "en"}).get_json()
    assert {hit["category"] for hit in english["results"] if hit["category_slug"] == "complaints-and-angry-customers"} \
        == {COMPLAINTS_EN}
    arabic = client.get("/api/v1/search", query_string={"q": "العميل الغاضب", "lang": "ar"}).get_json()
    assert {hit["category"] for hit in arabic["results"] if hit["category_slug"] == "complaints-and-angry-customers"} \
        == {COMPLAINTS_AR}
    article = client.get(f"/api/v1/articles/{REVIEWS_EN}").get_json()
    assert (article["category"], article["category_slug"]) == (COMPLAINTS_EN, "complaints-and-angry-customers")
    assert client.get(f"/api/v1/articles/{ANGRY}").get_json()["category"] == COMPLAINTS_AR


def test_the_agent_panel_names_a_hits_section_in_the_articles_language(app, client):
    _stored, token = panel_links.create_link(app.extensions["kb_db"].connection(), "Chatwoot", CHATWOOT, SECRET)
    for query, lang, name in (("negative reviews", "en", COMPLAINTS_EN), ("العميل الغاضب", "ar", COMPLAINTS_AR)):
        body = client.get("/agent/api/search", query_string={"q": query}, headers=bearer(token)).get_json()
        hits = [hit for hit in body["results"] if hit["slug"] in (ANGRY, REVIEWS_EN) and hit["lang"] == lang]
        assert hits and {hit["category"] for hit in hits} == {name}, query


def test_translating_categories_needs_no_reindex(app):
    """The index keeps a category's slug only: the copied index, made before the translations
    were added, is up to date for kb index."""
    report = app.extensions["kb"].index()
    assert (report.full, report.added, report.changed, report.deleted) == (False, 0, 0, 0)

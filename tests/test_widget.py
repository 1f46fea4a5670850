"""The help widget's server side: /widget.js, its CORS-limited public API, the allowed
origins (storage and the staff page), the article tree and the analytics source."""

from __future__ import annotations

import re

import pytest
from staff_fixtures import admin  # noqa: F401 (fixtures)
from staff_fixtures import cheap_hashing  # noqa: F401
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401

from kb.errors import KbError
from kb.web.widget_content import html_to_tree
from kb.web.widget_content import page_query
from kb.widget_origins import WidgetOrigins
from kb.widget_origins import parse_origin

SHOP = "https://shop.example.com"
INTERNAL = "response-times-and-escalation-guide"
ANGRY = "كيف أتعامل مع عميل غاضب"


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


@pytest.fixture
def origins(app):
    store = WidgetOrigins(app.extensions["kb_db"].connection())
    store.add(SHOP, "shop")
    return store


def api(client, path, origin=SHOP, prefix="", **kwargs):
    """A widget API call from a page of ``origin``; ``prefix``: the language path the script was loaded under."""
    return client.get(f"{prefix}/api/widget/{path}", headers={"Origin": origin}, **kwargs)


def searches(app):
    return app.extensions["kb_db"].connection().execute("SELECT query, source, result_count FROM searches").fetchall()


# -- allowed origins ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, origin", [
    ("https://Shop.Example.com", "https://shop.example.com"),
    ("https://shop.example.com/cart?x=1#y", "https://shop.example.com"),
    ("shop.example.com", "https://shop.example.com"),
    ("https://shop.example.com:443", "https://shop.example.com"),
    ("http://localhost:8080/", "http://localhost:8080"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_parse_origin_keeps_what_a_browser_sends(text, origin):
    assert parse_origin(text) == origin


@pytest.mark.parametrize("text, code", [
    ("", "origin_empty"),
    ("ftp://shop.example.com", "origin_scheme"),
    ("javascript:alert(1)", "origin_scheme"),
    ("https://user:pw@shop.example.com", "origin_invalid"),
    ("https://*.example.com", "origin_invalid"),
    ("https://shop.example.com:99999", "origin_invalid"),
    ("https://", "origin_invalid"),
])
def test_parse_origin_refuses_what_no_browser_sends(text, code):
    with pytest.raises(KbError) as caught:
        parse_origin(text)
    assert caught.value.code == code and caught.value.field == "origin"


def test_origins_are_added_once_matched_exactly_and_removed(app):
    store = WidgetOrigins(app.extensions["kb_db"].connection())
    assert store.add("https://Shop.example.com/x", "shop", "admin@example.com") == (SHOP, True)
    assert store.add(SHOP)[1] is False
    assert store.allows(SHOP) and store.allows(SHOP + "/")
    assert not store.allows("https://shop.example.com.evil.test")
    assert not store.allows("http://shop.example.com")
    assert not store.allows(None) and not store.allows("null")
    assert [row["origin"] for row in store.all()] == [SHOP]
    assert store.remove(SHOP) and not store.allows(SHOP)


# -- CORS --------------------------------------------------------------------------------------


def test_an_allowed_origin_gets_answers_with_cors_headers(client, origins):
    response = api(client, "config?lang=ar")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_another_origin_gets_a_403_and_no_cors_headers(client, origins):
    for path in ("config", f"search?q={ANGRY}", "page?title=x", "articles/x"):
        response = api(client, path, origin="https://evil.example")
        assert response.status_code == 403, path
        assert response.get_json()["error"]["code"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in response.headers
    assert searches(client.application) == []


def test_preflight_for_the_vote_is_answered_for_allowed_origins_only(client, origins):
    headers = {"Origin": SHOP, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    response = client.options("/api/widget/votes", headers=headers)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    refused = client.options("/api/widget/votes", headers={**headers, "Origin": "https://evil.example"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers


def test_no_origin_is_answered_without_cors_headers(client):
    """GIVEN no allowed origin WHEN a request carries no Origin (curl, the help center itself)
    THEN it is answered (the data is as public as the site) but no browser page elsewhere may read it."""
    response = client.get("/api/widget/config?lang=en")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


# -- the script and its configuration -------------------------------------------------------------


def test_widget_js_is_one_cacheable_script(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "max-age=" in response.headers["Cache-Control"]
    assert "KBHelpWidget" in response.get_data(as_text=True)
    again = client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_stylesheet_url_carries_its_hash_and_is_kept_a_year(client):
    stylesheet = client.get("/api/widget/config").get_json()["stylesheet"]
    response = client.get(stylesheet.replace("http://localhost", ""), headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.headers["Content-Encoding"] == "br"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "max-age=300" in client.get("/widget.css?v=old").headers["Cache-Control"]


def test_config_speaks_the_widget_language(client, origins):
    arabic = api(client, "config?lang=ar").get_json()
    english = api(client, "config?lang=en").get_json()
    assert (arabic["dir"], english["dir"]) == ("rtl", "ltr")
    assert english["strings"]["helpful"] == "Was this helpful?"
    assert arabic["strings"]["helpful"] != english["strings"]["helpful"]
    assert all(value.strip() for value in arabic["strings"].values())
    assert api(client, "config?lang=xx").get_json()["lang"] == "ar"  # the site default
    stylesheet = arabic["stylesheet"]
    assert client.get(stylesheet.replace("http://localhost", "")).status_code == 200
    assert arabic["color"].startswith("#")


@pytest.mark.parametrize("prefix", ["", "/en", "/ar"])
def test_config_urls_are_the_bare_help_center_whatever_path_loaded_the_script(client, origins, prefix):
    """GIVEN a tag that loads {prefix}/widget.js (the staff page of that language gave it once)
    WHEN the widget asks {prefix}/api/widget/config, searches and opens an article
    THEN every URL it gets is the help center's own, with no language prefix (let alone two):
    the stylesheet loads, and links are the articles' own URLs."""
    assert client.get(f"{prefix}/widget.js").status_code == 200
    config = api(client, "config?lang=ar", prefix=prefix).get_json()
    assert config["root"] == "http://localhost/"
    assert config["stylesheet"].startswith("http://localhost/widget.css?v="), config["stylesheet"]
    stylesheet = client.get(config["stylesheet"].removeprefix("http://localhost"))
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"
    results = api(client, "search", prefix=prefix, query_string={"q": ANGRY}).get_json()["results"]
    assert results and all(hit["url"].startswith("http://localhost/articles/") for hit in results)
    body = api(client, "articles/handling-angry-customers", prefix=prefix).get_json()
    assert body["url"] == "http://localhost/articles/handling-angry-customers"


def test_contact_url_is_the_unprefixed_contact_page(session_kb, tmp_path):
    """GIVEN no support_contact set (the widget ends at the help center's own contact form)
    WHEN the widget was loaded from /en/widget.js THEN its contact link is /contact, not /en/contact."""
    from conftest import make_settings
    from kb.web import create_app

    settings = make_settings(tmp_path, support_contact="").with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    client = create_app(settings, knowledge=session_kb, test_config={"TESTING": True}).test_client()
    for prefix in ("", "/en", "/ar"):
        config = client.get(f"{prefix}/api/widget/config?lang=en").get_json()
        assert config["contact_url"] == "http://localhost/contact", prefix
        assert config["contact_takes_query"] is True


# -- search, page suggestions, articles ---------------------------------------------------------


def test_search_as_you_type_is_not_counted_until_the_visitor_settles(client, origins, app):
    typing = api(client, "search", query_string={"q": ANGRY, "lang": "ar"}).get_json()
    assert typing["results"] and typing["search_id"] is None
    assert typing["results"][0]["slug"] == "handling-angry-customers"
    assert searches(app) == []
    settled = api(client, "search", query_string={"q": ANGRY, "lang": "ar", "record": "1"}).get_json()
    assert settled["search_id"]
    rows = searches(app)
    assert [(row["source"], row["query"]) for row in rows] == [("widget", ANGRY)]
    assert rows[0]["result_count"] >= 1


def test_a_misspelt_english_question_says_what_was_searched(client, origins):
    """GIVEN "reputaton", which has no answer as typed WHEN the English widget searches it
    (the English articles) THEN it gets the answers of "reputation", and the heading string
    names that question."""
    body = api(client, "search", query_string={"q": "reputaton", "lang": "en"}).get_json()
    assert body["corrected"] == "reputation" and body["reason"] is None
    assert body["results"][0]["slug"] == "responding-to-negative-reviews-en"
    assert api(client, "search", query_string={"q": ANGRY, "lang": "ar"}).get_json()["corrected"] is None
    strings = api(client, "config?lang=en").get_json()["strings"]
    assert strings["corrected"] == "Answers for “{question}”"
    assert "{question}" in api(client, "config?lang=ar").get_json()["strings"]["corrected"]


def test_results_are_public_text_with_absolute_links(client, origins, app):
    catalog = app.extensions["kb"].catalog.articles
    for question in (ANGRY, "أوقات الاستجابة وقائمة التصعيد للمشرف", "مؤشرات الأداء"):
        results = api(client, "search", query_string={"q": question}).get_json()["results"]
        for hit in results:
            assert catalog[hit["slug"]].is_public, hit["slug"]
            assert hit["url"].startswith("http://localhost/")
            assert "<mark>" not in hit["snippet"]


def test_page_suggestions_use_the_title_and_context(client, origins):
    body = api(client, "page", query_string={"title": "عميل غاضب يشتكي — متجر المثال", "context": "شكوى",
                                             "lang": "ar"}).get_json()
    assert body["query"] == "شكوى عميل غاضب يشتكي"
    assert "handling-angry-customers" in [hit["slug"] for hit in body["results"]]
    assert api(client, "page", query_string={"title": ""}).get_json()["results"] == []


def test_article_comes_as_a_tree_and_counts_a_view_and_the_click(client, origins, app):
    search_id = api(client, "search", query_string={"q": ANGRY, "record": "1"}).get_json()["search_id"]
    body = api(client, "articles/handling-angry-customers", query_string={"sid": search_id, "rank": 1}).get_json()
    assert body["title"] and body["dir"] == "rtl" and body["url"].endswith("/articles/handling-angry-customers")
    assert body["body"] and all(isinstance(node, (str, list)) for node in body["body"])
    db = app.extensions["kb_db"].connection()
    assert db.execute("SELECT COUNT(*) FROM article_views WHERE slug = 'handling-angry-customers'").fetchone()[0] == 1
    assert db.execute("SELECT clicked_slug FROM searches WHERE id = ?", (search_id,)).fetchone()[0] == "handling-angry-customers"


def test_internal_and_unknown_articles_are_404(client, origins):
    for slug in (INTERNAL, "no-such-article"):
        response = api(client, f"articles/{slug}")
        assert response.status_code == 404
        assert response.headers["Access-Control-Allow-Origin"] == SHOP  # the widget can read the error


def test_html_to_tree_keeps_reading_matter_only():
    html = ('<h1>T</h1><p onclick="x()">Hi <a href="/articles/b#s" title="t">b</a> '
            '<a href="javascript:alert(1)">j</a><script>bad()</script><style>p{}</style>'
            '<img src="/media/a.png" alt="a" onerror="x()"><iframe src="https://evil"></iframe>'
            '<br>end <custom-el>kept text</custom-el></p><table><tr><td colspan="2">c</td></tr></table>')
    assert html_to_tree(html, "https://help.example.com") == [
        ["h2", {}, "T"],
        ["p", {}, "Hi ", ["a", {"href": "https://help.example.com/articles/b#s"}, "b"], " ", ["a", {}, "j"],
         ["img", {"src": "https://help.example.com/media/a.png", "alt": "a"}], ["br", {}], "end kept text"],
        ["table", {}, ["tr", {}, ["td", {"colspan": "2"}, "c"]]],
    ]


@pytest.mark.parametrize("title, context, query", [
    ("Returns and refunds | Example Shop", "", "Returns and refunds"),
    ("الشحن — متجر", "التوصيل", "التوصيل الشحن"),
    ("Step-by-step setup guide", "", "Step-by-step setup guide"),
    ("Orders - track a parcel - Example", "", "Orders track a parcel"),
    ("", "", ""),
])
def test_page_query(title, context, query):
    assert page_query(title, context) == query


# -- votes and rate limits -----------------------------------------------------------------------


def test_one_vote_per_visitor_and_article(client, origins, app):
    def vote(visitor, helpful=True, slug="handling-angry-customers"):
        return client.post("/api/widget/votes", json={"slug": slug, "helpful": helpful, "visitor": visitor},
                           headers={"Origin": SHOP})

    first = vote("visitor-0123456789")
    assert first.status_code == 200 and first.get_json()["recorded"] is True
    assert first.headers["Access-Control-Allow-Origin"] == SHOP
    assert vote("visitor-0123456789", helpful=False).get_json() == {"recorded": False, "vote": {"helpful": True,
                                                                                                 "comment": None}}
    assert vote("another-visitor-99").get_json()["recorded"] is True
    assert app.extensions["kb_analytics"].article_votes("handling-angry-customers").helpful == 2
    assert vote("short").status_code == 400
    assert vote("visitor-0123456789", slug=INTERNAL).status_code == 404
    assert client.post("/api/widget/votes", json={"slug": "handling-angry-customers", "helpful": "yes",
                                                  "visitor": "visitor-0123456789"}).status_code == 400
    stored = app.extensions["kb_db"].connection().execute("SELECT visitor FROM votes").fetchall()
    assert all("visitor" not in row[0] for row in stored)  # hashed, never the id itself


def test_searches_are_rate_limited_per_visitor(session_kb, tmp_path):
    from conftest import make_settings
    from kb.web import create_app

    settings = make_settings(tmp_path, site_rate_limit=1).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    app = create_app(settings, knowledge=session_kb, test_config={"TESTING": True})
    WidgetOrigins(app.extensions["kb_db"].connection()).add(SHOP)
    client = app.test_client()
    statuses = [api(client, "search", query_string={"q": f"طلب {n}"}).status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = api(client, "search", query_string={"q": "طلب"})
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["Access-Control-Allow-Origin"] == SHOP
    other = app.test_client()
    other_visitor = other.get("/api/widget/search", query_string={"q": "طلب"}, headers={"Origin": SHOP},
                              environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_visitor.status_code == 200


# -- the staff page ------------------------------------------------------------------------------


def test_admin_allows_and_removes_a_site(admin, staff_app):  # noqa: F811
    page = admin.get("/staff/widget")
    assert page.status_code == 200 and "/widget.js" in page.get_data(as_text=True)
    added = admin.post("/staff/widget", {"origin": "https://Shop.Example.com/cart", "note": "shop"})
    assert added.status_code == 303
    listed = admin.get("/staff/widget").get_data(as_text=True)
    assert SHOP in listed
    client = staff_app.test_client()
    assert client.get("/api/widget/config", headers={"Origin": SHOP}).status_code == 200
    refused = admin.post("/staff/widget", {"origin": "ftp://x"})
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert admin.post("/staff/widget/remove", {"origin": SHOP}).status_code == 303
    assert client.get("/api/widget/config", headers={"Origin": SHOP}).status_code == 403
    actions = [row[0] for row in staff_app.extensions["kb_db"].connection().execute(
        "SELECT action FROM audit_log WHERE action LIKE 'widget_%' ORDER BY id")]
    assert actions == ["widget_origin_added", "widget_origin_removed"]


@pytest.mark.parametrize("prefix", ["", "/en", "/ar"])
def test_the_staff_page_gives_the_bare_tag_and_csp_origin_in_every_language(admin, prefix):  # noqa: F811
    """GIVEN an admin on the Help widget page of any language WHEN they copy the tag and read the
    CSP advice THEN the tag loads the unprefixed /widget.js and the CSP source is the bare origin
    (a source with a path and no trailing slash would allow that one path only)."""
    page = admin.get(f"{prefix}/staff/widget").get_data(as_text=True)
    assert re.findall(r'&lt;script src="([^"]+)"', page) == ["http://localhost/widget.js"]
    advice = next(paragraph for paragraph in re.findall(r"<p>(.*?)</p>", page, re.S) if "script-src" in paragraph)
    assert re.findall(r"https?://\S+", advice) == ["http://localhost"], advice


def test_a_configured_base_url_names_the_tag_and_csp_origin(session_kb, tmp_path, cheap_hashing):  # noqa: F811
    """GIVEN base_url set (behind a proxy) WHEN the staff page is opened under /en/ THEN the tag and
    the CSP origin come from it, and the widget config's URLs too."""
    from conftest import make_settings
    from staff_fixtures import ADMIN
    from staff_fixtures import StaffClient
    from kb.store import users
    from kb.web import create_app

    settings = make_settings(tmp_path, base_url="https://help.example.com").with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    app = create_app(settings, knowledge=session_kb, test_config={"TESTING": True})
    users.create_user(app.extensions["kb_db"].connection(), *ADMIN, role="admin")
    admin = StaffClient(app.test_client())
    assert admin.login(*ADMIN).status_code == 302
    page = admin.get("/en/staff/widget").get_data(as_text=True)
    assert '&lt;script src="https://help.example.com/widget.js"' in page
    assert "allow https://help.example.com in script-src" in page
    config = admin.get("/en/api/widget/config").get_json()
    assert config["stylesheet"].startswith("https://help.example.com/widget.css?v=")


def test_editors_cannot_change_the_sites(editor):  # noqa: F811
    assert editor.get("/staff/widget").status_code == 403
    assert editor.post("/staff/widget", {"origin": SHOP}).status_code == 403


def test_reports_count_searches_by_source(admin, staff_app):  # noqa: F811
    """GIVEN searches from the site, the widget (settled ones only) and the API WHEN an admin
    opens the reports THEN each source has its own row."""
    WidgetOrigins(staff_app.extensions["kb_db"].connection()).add(SHOP)
    client = staff_app.test_client()
    for record in ("0", "1"):
        api(client, "search", query_string={"q": ANGRY, "record": record})
    api(client, "search", query_string={"q": "zzzz qqqq xxxx", "record": "1"})
    client.get("/search", query_string={"q": ANGRY})
    stats = {s.source: s for s in staff_app.extensions["kb_analytics"].searches_by_source(30)}
    assert (stats["widget"].searches, stats["site"].searches) == (2, 1)
    assert stats["widget"].without_results == 1
    page = admin.get("/staff/reports").get_data(as_text=True)
    section = page.split('data-report="search-sources"', 1)[1].split("</section>", 1)[0]
    assert '<tr data-source="widget">' in section and '<tr data-source="site">' in section
    english = admin.get("/en/staff/reports").get_data(as_text=True)
    assert "<td>Help widget</td><td>2</td><td>1</td>" in english

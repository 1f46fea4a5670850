"""The agent panel over HTTP: panel links (tokens), framing headers, the token-only JSON views,
feedback in the reports, and the admin page.  Real index and model (session_kb); the browser
side (Chatwoot harness on another origin) is in test_agent_panel_browser.py.
"""

from __future__ import annotations

import re

import pytest

from kb import panel_links
from kb.errors import KbError
from staff_fixtures import admin  # noqa: F401 - fixtures
from staff_fixtures import cheap_hashing  # noqa: F401
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401

SECRET = "test-secret-key"  # conftest.make_settings
CHATWOOT = "https://chat.example.com"
ANGRY = "السلام عليكم، العميل غاضب جدا ويصرخ على الهاتف، كيف أتعامل معه؟"
ESCALATION = "متى أصعّد الحالة إلى المشرف وما هدف زمن الرد على البريد؟"
INTERNAL_SLUG = "response-times-and-escalation-guide"


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


@pytest.fixture
def database(app):
    return app.extensions["kb_db"].connection()


@pytest.fixture
def link(database):
    return panel_links.create_link(database, "Chatwoot", f"{CHATWOOT}\nhttp://localhost:3000/", SECRET)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- origins and tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed, expected", [
    ("https://chat.example.com", ("https://chat.example.com",)),
    ("HTTPS://Chat.Example.com/", ("https://chat.example.com",)),
    ("https://a.example, http://localhost:3000\nhttps://a.example", ("https://a.example", "http://localhost:3000")),
    ("", ()),
])
def test_origins_are_normalized(typed, expected):
    assert panel_links.normalize_origins(typed) == expected


@pytest.mark.parametrize("typed", [
    "*", "https://*.example.com", "chat.example.com", "javascript:alert(1)", "ftp://files.example.com",
    "https://chat.example.com/app", "https://chat.example.com?x=1", "https://user@chat.example.com",
    "https://chat.example.com;script-src", "'self'", "https://chat.example.com:99999",
])
def test_a_bad_origin_is_refused_with_the_field(typed):
    """GIVEN what an admin might paste WHEN it is not a bare origin THEN a clear error names the field
    (it would go into the frame-ancestors directive as it is)."""
    with pytest.raises(KbError) as caught:
        panel_links.normalize_origins(typed)
    assert caught.value.field == "origins"


def test_the_token_is_signed_hashed_at_rest_and_revocable(database, link):
    stored, token = link
    assert token.startswith("kbp_" + stored.public_id + ".")
    row = database.execute("SELECT * FROM panel_links WHERE id = ?", (stored.id,)).fetchone()
    assert token not in " ".join(str(value) for value in tuple(row))
    assert panel_links.verify_token(database, token, SECRET).id == stored.id

    public_id, nonce, signature = token[len("kbp_"):].split(".")
    forged_signature = f"kbp_{public_id}.{nonce}.{'A' * len(signature)}"
    other_nonce = f"kbp_{public_id}.{'B' * len(nonce)}.{signature}"
    for bad in (forged_signature, other_nonce, token + "x", "kbp_", "", token.replace("kbp_", "kb_")):
        assert panel_links.verify_token(database, bad, SECRET) is None, bad
    assert panel_links.verify_token(database, token, "another-secret-key") is None

    panel_links.revoke_link(database, stored.id)
    assert panel_links.verify_token(database, token, SECRET) is None
    assert panel_links.find_active(database, stored.public_id) is None


def test_a_link_needs_a_name(database):
    with pytest.raises(KbError) as caught:
        panel_links.create_link(database, "  ", CHATWOOT, SECRET)
    assert caught.value.field == "name"


# -- the page and its framing -----------------------------------------------------------------------


def test_the_panel_may_be_framed_only_by_the_links_origins(client, link):
    stored, token = link
    response = client.get(f"/agent?panel={stored.public_id}")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://chat.example.com http://localhost:3000" in csp
    assert "script-src 'self'" in csp
    assert "X-Frame-Options" not in response.headers
    html = response.get_data(as_text=True)
    assert token not in html and "Set-Cookie" not in response.headers
    assert 'dir="rtl"' in html and 'data-origins="https://chat.example.com http://localhost:3000"' in html


def test_every_other_page_stays_unframable(client, link):
    stored, _token = link
    for path in ("/agent", "/", "/staff/login"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
    panel_links.revoke_link(client.application.extensions["kb_db"].connection(), stored.id)
    for public_id in (stored.public_id, "000000000000", "../../etc", "x" * 300):
        response = client.get("/agent", query_string={"panel": public_id})
        assert response.status_code == 404
        assert response.headers["X-Frame-Options"] == "DENY"


def test_a_message_in_the_url_is_put_in_the_page_escaped(client, link):
    stored, _token = link
    response = client.get("/en/agent", query_string={"panel": stored.public_id, "message": '<script>x</script> "هل'})
    html = response.get_data(as_text=True)
    assert 'lang="en"' in html and "<script>x</script>" not in html
    assert 'data-message="&lt;script&gt;x&lt;/script&gt; &#34;هل"' in html


# -- the JSON views -----------------------------------------------------------------------------------


def test_suggest_answers_the_latest_customer_message(client, link):
    _stored, token = link
    response = client.post("/agent/api/suggest", headers=bearer(token), json={
        "message": ANGRY,
        "conversation": [{"role": "customer", "text": "مرحبا"}, {"role": "agent", "text": "أهلًا، كيف أساعدك؟"}],
    })
    assert response.status_code == 200
    body = response.get_json()
    slugs = [hit["slug"] for hit in body["suggestions"]]
    assert "handling-angry-customers" in slugs[:3]
    first = body["suggestions"][0]
    assert first["url"].startswith("http://127.0.0.1:5000/articles/") and first["snippet"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["query_id"])
    flags = [hit["related"] for hit in body["suggestions"]]
    assert flags == sorted(flags) and flags[0] is False  # the articles that answer, then related ones (kb.search.tiers)


def test_agents_see_internal_articles_marked_customers_do_not(client, link):
    _stored, token = link
    body = client.post("/agent/api/suggest", headers=bearer(token), json={"message": ESCALATION}).get_json()
    internal = [hit for hit in body["suggestions"] if hit["slug"] == INTERNAL_SLUG]
    assert internal and internal[0]["internal"] is True
    assert all(hit["internal"] is False for hit in body["suggestions"] if hit["slug"] != INTERNAL_SLUG)
    searched = client.get("/agent/api/search", query_string={"q": ESCALATION}, headers=bearer(token)).get_json()
    assert INTERNAL_SLUG in [hit["slug"] for hit in searched["results"]]
    public = client.get("/api/v1/search", query_string={"q": ESCALATION}).get_json()
    assert INTERNAL_SLUG not in [hit["slug"] for hit in public["results"]]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer kbp_nope"}, {"Authorization": "Basic abc"}])
def test_the_json_views_need_a_valid_token(client, link, headers):
    response = client.post("/agent/api/suggest", headers=headers, json={"message": ANGRY})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] in ("missing_token", "invalid_token")
    assert client.get("/agent/api/search?q=x", headers=headers).status_code == 401


def test_a_panel_token_opens_nothing_else(client, link):
    """Read-only: the token is no API key and no staff session."""
    _stored, token = link
    assert client.post("/api/v1/suggest", headers=bearer(token), json={"message": ANGRY}).status_code == 401
    assert client.get("/staff/articles", headers=bearer(token)).status_code == 302


@pytest.mark.parametrize("body, field", [
    ({}, "message"), ({"message": "   "}, "message"), ({"message": 5}, "message"),
    ({"message": "x" * 4001}, "message"), ({"message": "طلب", "conversation": "نص"}, "conversation"),
])
def test_bad_suggest_bodies_get_a_clear_error(client, link, body, field):
    _stored, token = link
    response = client.post("/agent/api/suggest", headers=bearer(token), json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_feedback_is_stored_for_the_reports_and_marks_last_use(client, link, database):
    stored, token = link
    assert stored.last_used_at is None
    body = client.post("/agent/api/suggest", headers=bearer(token), json={"message": ANGRY}).get_json()
    slug = body["suggestions"][0]["slug"]
    response = client.post("/agent/api/feedback", headers=bearer(token),
                           json={"query_id": body["query_id"], "slug": slug, "useful": False})
    assert response.status_code == 200
    row = database.execute("SELECT useful, panel_link_id FROM suggest_feedback WHERE query_id = ?",
                           (body["query_id"],)).fetchone()
    assert (row["useful"], row["panel_link_id"]) == (0, stored.id)
    from kb.web.staff.admin import agent_feedback

    assert {"slug": slug, "useful": 0, "not_useful": 1, "total": 1} in agent_feedback(database, 30)
    assert panel_links.get_link(database, stored.id).last_used_at is not None

    unknown = client.post("/agent/api/feedback", headers=bearer(token),
                          json={"query_id": body["query_id"], "slug": "not-suggested", "useful": True})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["field"] == "slug"
    _other, other_token = panel_links.create_link(database, "Zammad", "", SECRET)
    foreign = client.post("/agent/api/feedback", headers=bearer(other_token),
                          json={"query_id": body["query_id"], "slug": slug, "useful": True})
    assert foreign.status_code == 404 and foreign.get_json()["error"]["field"] == "query_id"


# -- the admin page ---------------------------------------------------------------------------------------


def test_an_admin_creates_lists_and_revokes_panel_links(admin, staff_app):  # noqa: F811
    response = admin.post("/staff/panel-links", {"name": "Chatwoot support", "origins": CHATWOOT})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    url = re.search(r'id="panel-link-url">([^<]+)<', html).group(1)
    match = re.fullmatch(r"http://127\.0\.0\.1:5000/agent\?panel=([0-9a-f]{12})#token=(kbp_[^\s]+)", url)
    assert match, url
    client = staff_app.test_client()
    assert client.get("/agent/api/search?q=شكوى", headers=bearer(match.group(2))).status_code == 200

    listed = admin.get("/staff/panel-links").get_data(as_text=True)
    assert "Chatwoot support" in listed and CHATWOOT in listed and match.group(2) not in listed
    link_id = panel_links.find_active(staff_app.extensions["kb_db"].connection(), match.group(1)).id
    assert admin.post(f"/staff/panel-links/{link_id}/revoke").status_code == 302
    assert client.get("/agent/api/search?q=شكوى", headers=bearer(match.group(2))).status_code == 401
    assert client.get(f"/agent?panel={match.group(1)}").status_code == 404


def test_a_bad_origin_on_the_admin_page_is_a_400_naming_it(admin):  # noqa: F811
    response = admin.post("/staff/panel-links", {"name": "x", "origins": "https://chat.example.com/app"})
    assert response.status_code == 400
    assert "https://chat.example.com/app" in response.get_data(as_text=True)


def test_editors_cannot_manage_panel_links(editor):  # noqa: F811
    assert editor.get("/staff/panel-links").status_code == 403
    assert editor.post("/staff/panel-links", {"name": "x", "origins": ""}).status_code == 403


def test_panel_links_are_listed_with_the_api_keys(admin):  # noqa: F811
    """The issue asks for panel links "listed with the API keys, with last use"."""
    admin.post("/staff/panel-links", {"name": "Chatwoot الدعم", "origins": CHATWOOT})
    html = admin.get("/staff/api-keys").get_data(as_text=True)
    assert "Chatwoot الدعم" in html and "/staff/panel-links" in html

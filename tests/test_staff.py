"""The staff blueprint through the test client: sign-in, roles, CSRF, the editor, admin pages.

Every writing test runs on a private copy of the articles and index (``staff_app`` over
``fresh_kb``), with one editor and one admin account.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time

import pytest
import yaml

from kb.store import audit
from kb.content import revisions
from kb.store import users
from kb.replication.collection import export_collection
from staff_fixtures import ADMIN
from staff_fixtures import EDITOR
from staff_fixtures import StaffClient
from staff_fixtures import admin  # noqa: F401 - fixtures
from staff_fixtures import anonymous  # noqa: F401
from staff_fixtures import cheap_hashing  # noqa: F401
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401
from staff_fixtures import staff_db  # noqa: F401
from staff_fixtures import time_budget

SLUG = "positive-language"
INTERNAL = "response-times-and-escalation-guide"
DRAFT = "customer-service-kpis"
WORD = "زنجبيلية"
ADMIN_PAGES = ["/staff/users", "/staff/audit", "/staff/reports", "/staff/api-keys"]


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


def new_article(**overrides) -> dict:
    data = {
        "title": "سياسة الشحن المجاني", "slug": "", "category": "الطلبات والاسترداد", "tags": "شحن, توصيل",
        "lang": "ar", "audience": "public", "summary": "متى يكون الشحن مجانيًا.",
        "body": f"## الشروط\n\n- طلب فوق 200 ريال\n- عنوان داخل المدينة\n\nكلمة نادرة: {WORD}.",
        "faq_q": ["هل الشحن مجاني؟", ""], "faq_a": ["نعم فوق 200 ريال.", ""], "action": "publish",
    }
    data.update(overrides)
    return data


def site_search(client, query: str) -> list[str]:
    """The slugs the public search page lists for query, in order."""
    from urllib.parse import unquote

    html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    return [unquote(slug) for slug in re.findall(r'class="result-title"[^>]*><a href="[^"]*[?&]to=([^&"]+)', html)]


def keyword_slugs(app, query: str) -> list[str]:
    """What keyword search finds for customers (semantic search always returns neighbours)."""
    return [hit.slug for hit in app.extensions["kb"].search(query, mode="keyword")]


# -- sign-in, sessions, permissions --------------------------------------------------------------


def _sample_url(rule) -> str:
    """The rule's path with every variable filled (1 for ints, a slug otherwise)."""
    return re.sub(r"<(\w+:)?(\w+)>", lambda m: "1" if m.group(1) == "int:" else SLUG, rule.rule)


def test_every_staff_page_requires_sign_in(staff_app, anonymous):
    """GIVEN no session WHEN any staff URL is requested THEN GET redirects to sign-in and POST is refused."""
    rules = [r for r in staff_app.url_map.iter_rules() if r.endpoint.startswith("staff.") and r.endpoint != "staff.login"]
    assert len(rules) > 20
    token = anonymous.refresh_token()
    for rule in rules:
        url = _sample_url(rule)
        if "GET" in rule.methods:
            response = anonymous.get(url)
            assert response.status_code == 302 and "/staff/login" in response.headers["Location"], url
        if "POST" in rule.methods:
            response = anonymous.client.post(url, data={"csrf_token": token})
            assert response.status_code == 401, url


def test_sign_in_sets_a_hardened_session_cookie_and_sign_out_ends_it(anonymous):
    response = anonymous.login(*EDITOR, next="/staff/articles")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/articles"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert anonymous.get("/staff/articles").status_code == 200
    anonymous.refresh_token("/staff/articles")
    assert anonymous.post("/staff/logout").status_code == 302
    assert anonymous.get("/staff/articles").status_code == 302


def test_session_cookie_is_secure_when_served_over_https(fresh_kb, fresh_dir, cheap_hashing):
    from conftest import make_settings
    from kb.web import create_app

    app = create_app(make_settings(fresh_dir, base_url="https://help.example.com"), knowledge=fresh_kb,
                     test_config={"TESTING": True})
    users.create_user(app.extensions["kb_db"].connection(), *EDITOR, role="editor")
    client = StaffClient(app.test_client())
    client.client.environ_base["wsgi.url_scheme"] = "https"
    response = client.login(*EDITOR)
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_shows_an_error_and_keeps_the_email(anonymous):
    response = anonymous.login(EDITOR[0], "wrong password")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "غير صحيحة" in html and f'value="{EDITOR[0]}"' in html


def test_sign_in_is_throttled(anonymous):
    for _ in range(users.MAX_FAILURES_PER_EMAIL):
        assert anonymous.login(EDITOR[0], "wrong password").status_code == 401
    response = anonymous.login(*EDITOR)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "محاولات دخول كثيرة" in response.get_data(as_text=True)


def test_next_cannot_send_you_to_another_site(anonymous):
    response = anonymous.login(*EDITOR, next="//evil.example/steal")
    assert response.headers["Location"] == "/staff/articles" or response.headers["Location"].endswith("/staff/")


def test_csrf_token_is_required_on_every_form(staff_app, editor):
    """A signed-in editor's POST without the token (a cross-site form) is rejected and changes nothing."""
    path = staff_app.extensions["kb"].catalog.articles[SLUG].path
    before = path.read_bytes()
    raw = editor.client
    for url, data in [("/staff/articles/new", new_article()), (f"/staff/articles/{SLUG}/delete", {}),
                      (f"/staff/articles/{SLUG}/unpublish", {}), ("/staff/logout", {}), ("/staff/preview", {"body": "x"})]:
        assert raw.post(url, data=data).status_code == 400, url
        assert raw.post(url, data={**data, "csrf_token": "forged"}).status_code == 400, url
    assert path.read_bytes() == before
    assert SLUG in staff_app.extensions["kb"].catalog.articles
    assert StaffClient(staff_app.test_client()).client.post(
        "/staff/login", data={"email": EDITOR[0], "password": EDITOR[1]}).status_code == 400


def test_csrf_header_is_accepted_for_scripts(editor):
    response = editor.client.post("/staff/preview", data={"body": "## عنوان"}, headers={"X-CSRF-Token": editor.token})
    assert response.status_code == 200 and "<h2" in response.json["html"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_editors_cannot_reach_admin_pages(editor, url):
    assert editor.get(url).status_code == 403


def test_editors_cannot_post_to_admin_actions(editor, staff_db):
    admin_id = users.find_user(staff_db, ADMIN[0]).id
    for url in ["/staff/users", f"/staff/users/{admin_id}/disable", f"/staff/users/{admin_id}/role",
                f"/staff/users/{admin_id}/password", "/staff/api-keys", "/staff/api-keys/1/revoke"]:
        assert editor.post(url, {"email": "x@example.com", "password": "long enough password", "role": "admin",
                                 "name": "k"}).status_code == 403, url
    assert users.find_user(staff_db, ADMIN[0]).active and users.find_user(staff_db, "x@example.com") is None


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admins_reach_admin_pages(admin, url):
    assert admin.get(url).status_code == 200


def test_disabled_user_is_signed_out_on_next_request(admin, editor, staff_db):
    editor_id = users.find_user(staff_db, EDITOR[0]).id
    assert admin.post(f"/staff/users/{editor_id}/disable").status_code == 302
    assert editor.get("/staff/articles").status_code == 302
    assert editor.login(*EDITOR).status_code == 401


def test_admin_adds_user_resets_password_and_changes_role(admin, staff_app, staff_db):
    response = admin.post("/staff/users", {"email": "new@example.com", "password": "short", "role": "editor"})
    assert response.status_code == 400 and 'value="new@example.com"' in response.get_data(as_text=True)
    assert admin.post("/staff/users", {"email": "new@example.com", "password": "long enough password",
                                       "role": "editor"}).status_code == 302
    user = users.find_user(staff_db, "new@example.com")
    assert admin.post(f"/staff/users/{user.id}/password", {"password": "another long password"}).status_code == 302
    assert admin.post(f"/staff/users/{user.id}/role", {"role": "admin"}).status_code == 302
    assert users.find_user(staff_db, "new@example.com").role == "admin"
    client = StaffClient(staff_app.test_client())
    assert client.login("new@example.com", "another long password").status_code == 302
    actions = {e.action for e in audit.entries(staff_db)}
    assert {"user_created", "user_password_reset", "user_role_changed"} <= actions


def test_change_own_password(editor, staff_db):
    response = editor.post("/staff/account", {"current_password": "nope", "new_password": "x" * 12, "confirm_password": "x" * 12})
    assert response.status_code == 400
    response = editor.post("/staff/account", {"current_password": EDITOR[1], "new_password": "brand new password",
                                              "confirm_password": "brand new password"})
    assert response.status_code == 302
    assert editor.get("/staff/articles").status_code == 200  # this session survives the change
    assert users.authenticate(staff_db, EDITOR[0], "brand new password", "c")


def test_staff_see_internal_articles_and_drafts_on_the_site(anonymous, editor):
    for slug in (INTERNAL, DRAFT):
        assert anonymous.get(f"/articles/{slug}").status_code == 404
        assert editor.get(f"/articles/{slug}").status_code == 200


def test_staff_pages_are_never_cached(editor):
    assert editor.get("/staff/articles").headers["Cache-Control"] == "no-store"


# -- the article list ----------------------------------------------------------------------------


def test_article_list_filters_and_search(editor):
    html = editor.get("/staff/articles").get_data(as_text=True)
    assert "استخدام اللغة الإيجابية" in html and "دليل داخلي للوكلاء" in html and "مسودة" in html
    drafts = editor.get("/staff/articles", query_string={"status": "draft"}).get_data(as_text=True)
    assert "مؤشرات الأداء" in drafts and "استخدام اللغة الإيجابية" not in drafts
    internal = editor.get("/staff/articles", query_string={"status": "internal"}).get_data(as_text=True)
    assert "دليل داخلي للوكلاء" in internal and "استخدام اللغة الإيجابية" not in internal
    english = editor.get("/staff/articles", query_string={"lang": "en"}).get_data(as_text=True)
    assert "negative" in english.lower() and "استخدام اللغة الإيجابية" not in english
    category = editor.get("/staff/articles", query_string={"category": "التواصل مع العملاء"}).get_data(as_text=True)
    assert "استخدام اللغة الإيجابية" in category and "دليل داخلي" not in category
    found = editor.get("/staff/articles", query_string={"q": "الايجابية"}).get_data(as_text=True)
    assert "استخدام اللغة الإيجابية" in found and "دليل داخلي" not in found
    stale = editor.get("/staff/articles", query_string={"updated": "stale"}).get_data(as_text=True)
    assert "لا مقالات تطابق" in stale or "<tbody>" in stale


# -- create, edit, publish -----------------------------------------------------------------------


def test_publish_from_the_editor_is_searchable_on_the_site_at_once(editor, anonymous, staff_db):
    started = time.monotonic()
    response = editor.post("/staff/articles/new", new_article())
    assert response.status_code == 302
    slug = "سياسة-الشحن-المجاني"
    assert site_search(anonymous.client, WORD)[0] == slug
    elapsed = time.monotonic() - started
    print(f"\npublish POST -> found by site search: {elapsed:.2f} s (measured by scripts/bench_cluster.py)")
    assert anonymous.get(f"/articles/{slug}").status_code == 200
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "نُشر المقال" in page
    entry = audit.entries(staff_db, action="article_published")[0]
    assert entry.user_email == EDITOR[0] and entry.target == slug


def test_validation_errors_show_inline_and_keep_everything_typed(editor, staff_app):
    body = "## نص طويل كتبه المحرر\n\n- لا يضيع"
    response = editor.post("/staff/articles/new", new_article(title="", body=body, faq_q=["سؤال بلا جواب"], faq_a=[""]))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="title-error"' in html and "العنوان مطلوب" in html and 'id="faq-error"' in html
    assert "## نص طويل كتبه المحرر" in html and "سؤال بلا جواب" in html and "شحن, توصيل" in html
    assert not list(staff_app.extensions["kb"].articles_dir.rglob("*شحن*"))


def test_editing_a_published_article_keeps_the_live_version_until_published(staff_app, editor, anonymous):
    form = editor.editor_form(SLUG)
    form["body"] += f"\n\nفقرة جديدة فيها {WORD}."
    response = editor.post(f"/staff/articles/{SLUG}/edit", {**form, "action": "draft"})
    assert response.status_code == 302
    assert WORD not in anonymous.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert SLUG not in keyword_slugs(staff_app, WORD)
    preview = editor.get(f"/staff/articles/{SLUG}/preview").get_data(as_text=True)
    assert WORD in preview and "معاينة" in preview
    form = editor.editor_form(SLUG)
    assert WORD in form["body"]
    assert editor.post(f"/staff/articles/{SLUG}/edit", {**form, "action": "publish"}).status_code == 302
    assert WORD in anonymous.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert site_search(anonymous.client, WORD)[0] == SLUG
    assert keyword_slugs(staff_app, WORD) == [SLUG]


def test_unpublish_delete_and_restore(editor, anonymous, staff_db):
    assert editor.post(f"/staff/articles/{SLUG}/unpublish").status_code == 302
    assert anonymous.get(f"/articles/{SLUG}").status_code == 404
    assert editor.get(f"/articles/{SLUG}").status_code == 200  # staff still preview the draft
    assert editor.post(f"/staff/articles/{SLUG}/delete").status_code == 302
    assert editor.get(f"/articles/{SLUG}").status_code == 404
    trash = editor.get("/staff/trash").get_data(as_text=True)
    assert "استخدام اللغة الإيجابية" in trash
    trash_id = re.search(r"/staff/trash/(\d+)/restore", trash).group(1)
    assert editor.post(f"/staff/trash/{trash_id}/restore").status_code == 302
    assert editor.get(f"/staff/articles/{SLUG}/edit").status_code == 200
    actions = [e.action for e in audit.entries(staff_db)]
    assert {"article_unpublished", "article_deleted", "article_restored"} <= set(actions)


def test_conflicting_edits_show_both_versions(staff_app, editor, admin):
    first = editor.editor_form(SLUG)
    second = admin.editor_form(SLUG)
    assert editor.post(f"/staff/articles/{SLUG}/edit", {**first, "summary": "ملخص المحرر", "action": "publish"}).status_code == 302
    response = admin.post(f"/staff/articles/{SLUG}/edit", {**second, "summary": "ملخص المدير", "action": "publish"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "تعارض" in html and "ملخص المحرر" in html and "ملخص المدير" in html and EDITOR[0] in html
    path = staff_app.extensions["kb"].catalog.articles[SLUG].path
    assert "ملخص المحرر" in path.read_text(encoding="utf-8")
    history = revisions.history(staff_app.extensions["kb_db"].connection(), SLUG)
    assert history[0].state == "conflict" and "ملخص المدير" in history[0].text


def test_revisions_page_diff_and_restore(editor, staff_db):
    for summary in ("ملخص أول", "ملخص ثان"):
        form = editor.editor_form(SLUG)
        editor.post(f"/staff/articles/{SLUG}/edit", {**form, "summary": summary, "action": "publish"})
    page = editor.get(f"/staff/articles/{SLUG}/revisions").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r"/staff/revisions/(\d+)", page)]
    assert len(ids) == 2 and EDITOR[0] in page
    diff = editor.get(f"/staff/revisions/{max(ids)}").get_data(as_text=True)
    assert "diff-line--del" in diff and "ملخص أول" in diff and "ملخص ثان" in diff
    assert editor.post(f"/staff/articles/{SLUG}/revisions/{min(ids)}/restore").status_code == 302
    assert editor.editor_form(SLUG)["summary"] == "ملخص أول"
    assert audit.entries(staff_db, action="revision_restored")


def test_slug_rename_leaves_a_permanent_redirect(editor, anonymous):
    form = editor.editor_form(SLUG)
    response = editor.post(f"/staff/articles/{SLUG}/edit", {**form, "slug": "kind-words", "action": "publish"})
    assert response.headers["Location"].endswith("/staff/articles/kind-words/edit")
    old = anonymous.get(f"/articles/{SLUG}?from=test")
    assert old.status_code == 301 and old.headers["Location"] == "/articles/kind-words?from=test"
    assert anonymous.get("/articles/kind-words").status_code == 200


def test_arabic_slug_rename_redirect_is_percent_encoded(editor, anonymous):
    form = editor.editor_form(SLUG)
    editor.post(f"/staff/articles/{SLUG}/edit", {**form, "slug": "اللغة-الإيجابية", "action": "publish"})
    old = anonymous.get(f"/articles/{SLUG}")
    assert old.status_code == 301 and old.headers["Location"] == "/articles/%D8%A7%D9%84%D9%84%D8%BA%D8%A9-%D8%A7%D9%84%D8%A5%D9%8A%D8%AC%D8%A7%D8%A8%D9%8A%D8%A9"
    assert anonymous.get(old.headers["Location"]).status_code == 200


def test_category_editor_renames_with_redirect(editor, anonymous):
    page = editor.get("/staff/categories").get_data(as_text=True)
    names = re.findall(r'name="name" value="([^"]+)"', page)
    slugs = re.findall(r'name="slug" value="([^"]+)"', page)
    assert "communication" in slugs
    data = {"name": [], "slug": [], "description": [], "original_name": [], "original_slug": [], "order": []}
    for i, (name, slug) in enumerate(zip(names, slugs)):
        data["name"].append("فن التواصل" if slug == "communication" else name)
        data["slug"].append("talking" if slug == "communication" else slug)
        data["description"].append("")
        data["original_name"].append(name)
        data["original_slug"].append(slug)
        data["order"].append(str(len(names) - i))  # reverse the order
    assert editor.post("/staff/categories", data).status_code == 302
    assert anonymous.get("/categories/communication").headers["Location"] == "/categories/talking"
    assert anonymous.get("/categories/talking").status_code == 200
    again = editor.get("/staff/categories").get_data(as_text=True)
    assert re.findall(r'name="slug" value="([^"]+)"', again) == list(reversed(["talking" if s == "communication" else s for s in slugs]))


def categories_form(page: str) -> dict[str, list[str]]:
    """The categories page's form as a browser sends it back: each field's values in page order."""
    from html import unescape

    form = page.split('class="categories-form"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for tag, attributes, content in re.findall(r"<(input|textarea|select)\b([^>]*)>(?:(.*?)</\1>)?", form, re.S):
        name = re.search(r'\bname="([^"]+)"', attributes).group(1)
        if tag == "input":
            value = re.search(r'\bvalue="([^"]*)"', attributes).group(1)
        elif tag == "textarea":
            value = content
        else:
            value = (re.search(r'<option value="([^"]*)" selected', content)
                     or re.search(r'<option value="([^"]*)"', content)).group(1)
        if name != "csrf_token":
            fields.setdefault(name, []).append(unescape(value))
    return fields


def categories_file(staff_app) -> list[dict]:
    return yaml.safe_load((staff_app.extensions["kb"].articles_dir / "_categories.yml").read_text(encoding="utf-8"))


def test_category_editor_sets_the_english_name_and_description(staff_app, editor, anonymous, tmp_path):
    """GIVEN the categories page in English WHEN an editor gives "orders" an English name and
    description THEN _categories.yml has them as its English translation (the Arabic name
    and every other entry as they were), English pages show them, Arabic pages do not, the
    page shows them for the next edit, and kb export writes them."""
    before = categories_file(staff_app)
    form = categories_form(editor.get("/en/staff/categories").get_data(as_text=True))
    assert len(form["name_en"]) == len(form["description_en"]) == len(form["name"]) == len(before) + 1
    row = form["slug"].index("orders")
    form["name_en"][row], form["description_en"][row] = "Orders and refunds", "Returns, refunds and tracking."
    assert editor.post("/en/staff/categories", form).status_code == 302
    after = categories_file(staff_app)
    orders = next(entry for entry in after if entry["slug"] == "orders")
    assert orders == {**next(e for e in before if e["slug"] == "orders"),
                      "translations": {"en": {"name": "Orders and refunds", "description": "Returns, refunds and tracking."}}}
    assert [entry for entry in after if entry["slug"] != "orders"] == [e for e in before if e["slug"] != "orders"]
    english = anonymous.get("/en/categories/orders").get_data(as_text=True)
    assert "<h1>Orders and refunds</h1>" in english and "Returns, refunds and tracking." in english
    assert "Orders and refunds" not in anonymous.get("/ar/categories/orders").get_data(as_text=True)
    again = categories_form(editor.get("/staff/categories").get_data(as_text=True))
    assert again["name_en"][row] == "Orders and refunds"
    export_collection(staff_app.extensions["kb"].articles_dir, staff_app.extensions["kb_db"], tmp_path / "export")
    exported = yaml.safe_load((tmp_path / "export" / "_categories.yml").read_text(encoding="utf-8"))
    assert exported == after


def test_a_failed_category_save_leaves_the_file_whole(staff_app, editor, monkeypatch):
    """GIVEN the file cannot be replaced (a full disk) WHEN an English name is saved THEN the
    save fails and _categories.yml is byte for byte what it was, with no temporary file left;
    the same save then succeeds."""
    path = staff_app.extensions["kb"].articles_dir / "_categories.yml"
    original = path.read_bytes()
    form = categories_form(editor.get("/staff/categories").get_data(as_text=True))
    form["name_en"][0] = "Customer service basics"
    real_replace = os.replace

    def failing_replace(source, target):
        if str(target).endswith("_categories.yml"):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", failing_replace)
    assert editor.post("/staff/categories", form).status_code == 500
    assert path.read_bytes() == original
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.setattr(os, "replace", real_replace)
    assert editor.post("/staff/categories", form).status_code == 302
    assert categories_file(staff_app)[0]["translations"] == {"en": {"name": "Customer service basics"}}


def test_category_editor_keeps_translations_it_does_not_show(staff_app, editor):
    """GIVEN _categories.yml with English and French names (the site has no French pages)
    WHEN the page is saved without its English fields (an older page), then with a new
    English name THEN the French name is kept both times, and the English one until changed."""
    path = staff_app.extensions["kb"].articles_dir / "_categories.yml"
    entries = categories_file(staff_app)
    entries[0]["translations"] = {"en": {"name": "Basics"}, "fr": {"name": "Les bases"}}
    path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    staff_app.extensions["kb"].index()  # reloads the category list, as the watcher would
    form = categories_form(editor.get("/staff/categories").get_data(as_text=True))
    older = {name: values for name, values in form.items() if not name.endswith("_en")}
    assert editor.post("/staff/categories", older).status_code == 302
    assert categories_file(staff_app)[0]["translations"] == {"en": {"name": "Basics"}, "fr": {"name": "Les bases"}}
    form["name_en"][0] = "The basics"
    assert editor.post("/staff/categories", form).status_code == 302
    assert categories_file(staff_app)[0]["translations"] == {"fr": {"name": "Les bases"}, "en": {"name": "The basics"}}


def test_two_categories_cannot_share_an_english_name(staff_app, editor):
    path = staff_app.extensions["kb"].articles_dir / "_categories.yml"
    original = path.read_bytes()
    form = categories_form(editor.get("/en/staff/categories").get_data(as_text=True))
    form["name_en"][0] = form["name_en"][1] = "Basics"
    response = editor.post("/en/staff/categories", form)
    assert response.status_code == 400 and "Another category has this name." in response.get_data(as_text=True)
    assert path.read_bytes() == original


def test_synonyms_editor(editor, anonymous):
    lines = re.search(r'<textarea id="synonyms"[^>]*>(.*?)</textarea>', editor.get("/staff/synonyms").get_data(as_text=True), re.S).group(1)
    assert "استرجاع" in lines
    bad = editor.post("/staff/synonyms", {"synonyms": lines + "\nكلمة\n"})
    assert bad.status_code == 400 and "كلمة" in bad.get_data(as_text=True)
    assert editor.post("/staff/synonyms", {"synonyms": lines + "\nقرنبيطة، اللغة الإيجابية\n"}).status_code == 302
    assert site_search(anonymous.client, "قرنبيطة")[0] == SLUG


def test_live_preview_uses_the_sanitized_renderer(editor):
    body = "## عنوان\n\n- بند\n\n<script>alert(1)</script><img src=x onerror=alert(1)>[x](javascript:alert(1))"
    html = editor.post("/staff/preview", {"body": body}).json["html"]
    assert '<h2 dir="auto" id="عنوان">' in html and "<li" in html
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


def test_image_upload_is_checked_and_served(editor, anonymous, staff_app):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    response = editor.client.post("/staff/media", data={"image": (io.BytesIO(png), "shot.png"), "alt": "لقطة"},
                                  headers={"X-CSRF-Token": editor.token}, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    url = response.json["url"]
    assert response.json["markdown"] == f"![لقطة]({url})"
    served = anonymous.get(url)
    assert served.status_code == 200 and served.data == png and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert (staff_app.extensions["kb"].articles_dir / "_media").is_dir()
    bad = editor.client.post("/staff/media", data={"image": (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")},
                             headers={"X-CSRF-Token": editor.token}, content_type="multipart/form-data")
    assert bad.status_code == 415
    assert anonymous.get("/media/../kb.sqlite3").status_code == 404
    big = png + b"\x00" * (3 * 1024 * 1024)  # over the app's 2 MB form limit, under the image limit
    response = editor.client.post("/staff/media", data={"image": (io.BytesIO(big), "big.png")},
                                  headers={"X-CSRF-Token": editor.token}, content_type="multipart/form-data")
    assert response.status_code == 200
    huge = png + b"\x00" * (6 * 1024 * 1024)
    response = editor.client.post("/staff/media", data={"image": (io.BytesIO(huge), "huge.png")},
                                  headers={"X-CSRF-Token": editor.token}, content_type="multipart/form-data")
    assert response.status_code == 413


# -- admin pages ---------------------------------------------------------------------------------


def test_reports_dashboard(admin, staff_app):
    analytics = staff_app.extensions["kb_analytics"]
    analytics.record_search("شحن دولي", 0)
    analytics.record_search("شحن دولي", 0)
    analytics.record_search("اللغة الإيجابية", 3)
    analytics.record_vote(SLUG, "visitor-1", False, "المثال غير واضح")
    db = staff_app.extensions["kb_db"].connection()
    db.execute("INSERT INTO suggest_queries (id, message_chars, focused, slugs, took_ms) VALUES ('q1', 10, 'x', '[]', 1)")
    db.execute("INSERT INTO suggest_feedback (query_id, slug, useful) VALUES ('q1', ?, 0)", (SLUG,))
    html = admin.get("/staff/reports").get_data(as_text=True)
    assert "شحن دولي" in html and "اللغة الإيجابية" in html and "المثال غير واضح" in html
    assert "/staff/articles/new?title=%D8%B4%D8%AD%D9%86" in html  # "write an article for this"
    assert html.count("استخدام اللغة الإيجابية") >= 2  # least helpful + agent feedback
    new = admin.get("/staff/articles/new?title=شحن دولي").get_data(as_text=True)
    assert 'value="شحن دولي"' in new


def test_searches_without_results_beyond_the_first_twenty_are_counted_and_downloadable(admin, editor, staff_app):
    """The page lists the 20 most frequent searches that found nothing; the rest were out of
    sight (a QA pass made 51 and saw 20, with no word of the others). Now the page says how
    many there are, and a CSV holds them all, safe to open in a spreadsheet."""
    analytics = staff_app.extensions["kb_analytics"]
    for number in range(25):
        analytics.record_search(f"سؤال بلا جواب {number}", 0)
    analytics.record_search("سؤال بلا جواب 0", 0)
    analytics.record_search("=HYPERLINK(\"http://example.com\")", 0)
    analytics.record_search("اللغة الإيجابية", 3)
    html = admin.get("/staff/reports").get_data(as_text=True)
    assert "من أصل 26" in html and "/staff/reports/no-results.csv?days=30" in html
    response = admin.get("/staff/reports/no-results.csv?days=30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffquery,searches,last_searched")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    assert len(rows) == 26 and rows[0][:2] == ["سؤال بلا جواب 0", "2"]
    assert ["'=HYPERLINK(\"http://example.com\")"] == [row[0] for row in rows if "HYPERLINK" in row[0]]
    assert "اللغة الإيجابية" not in text
    assert editor.get("/staff/reports/no-results.csv").status_code in (302, 403)  # admins only, as the page


def test_api_keys_page_creates_and_revokes_with_audit(admin, staff_db):
    response = admin.post("/staff/api-keys", {"name": "مكتب الدعم"})
    html = response.get_data(as_text=True)
    secret = re.search(r'<code class="secret" dir="ltr">([^<]+)</code>', html).group(1)
    assert secret.startswith("kb_")
    key_id = re.search(r"/staff/api-keys/(\d+)/revoke", html).group(1)
    assert admin.post(f"/staff/api-keys/{key_id}/revoke").status_code == 302
    assert "ملغى" in admin.get("/staff/api-keys").get_data(as_text=True)
    assert [e.action for e in audit.entries(staff_db)][:2] == ["api_key_revoked", "api_key_created"]


def test_audit_log_records_sign_in_publish_delete(admin, editor, staff_db):
    editor.post("/staff/articles/new", new_article())
    editor.post(f"/staff/articles/{SLUG}/delete")
    html = admin.get("/staff/audit").get_data(as_text=True)
    for label in ("تسجيل دخول", "نشر", "حذف إلى سلة المحذوفات"):
        assert label in html
    only = admin.get("/staff/audit", query_string={"action": "article_deleted"}).get_data(as_text=True)
    assert SLUG in only and "<td>نشر</td>" not in only and "<td>حذف إلى سلة المحذوفات</td>" in only


def test_running_server_picks_up_files_changed_on_disk(staff_app, anonymous):
    """GIVEN the watcher started as `kb serve` starts it WHEN a file appears (a git pull) THEN the site finds it."""
    from kb.watcher import start_watcher
    from staff_fixtures import article_text

    watcher = start_watcher(staff_app, interval=0.2)
    try:
        path = staff_app.extensions["kb"].articles_dir / "communication" / "pulled.md"
        path.write_text(article_text("مقال وصل عبر git pull", f"فيه {WORD}."), encoding="utf-8")
        deadline = time.monotonic() + time_budget(10.0)
        knowledge = staff_app.extensions["kb"]
        # Keyword-searchable first; the site's hybrid ranking puts it first once its vectors are in.
        while knowledge.index_status("pulled") != "searchable" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "pulled" in keyword_slugs(staff_app, WORD)
        assert site_search(anonymous.client, WORD)[0] == "pulled"
        assert "مقال وصل عبر git pull" in anonymous.get("/").get_data(as_text=True) or \
            "مقال وصل عبر git pull" in anonymous.get("/categories/communication").get_data(as_text=True)
    finally:
        watcher.stop()
    assert staff_app.extensions["kb_watcher"] is watcher


def test_the_node_name_is_worked_out_once_per_app(staff_app, editor, monkeypatch):
    """GIVEN the staff app WHEN an editor opens an article again and again (each request builds
    a Publisher) THEN this node's name in the change log (the host name and a hash of the
    resolved index folder) is worked out once for the app, not once per request."""
    from kb import publishing
    from kb.store import changes

    worked_out = []
    real = changes.default_node_id
    monkeypatch.setattr(changes, "default_node_id", lambda folder: worked_out.append(folder) or real(folder))
    staff_app.extensions.pop("kb_node_id", None)
    for _ in range(3):
        assert editor.get(f"/staff/articles/{SLUG}/edit").status_code == 200
    assert len(worked_out) == 1
    assert staff_app.extensions["kb_node_id"] == publishing.node_id(staff_app.extensions["kb"])

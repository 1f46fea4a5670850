"""Page details of the help center over HTTP: compression, caching without cookies,
pages past the end, "N of M found this helpful", external images told to the author.

Flask's test client against the session knowledge base (conftest's ``app``/``client``).
"""

from __future__ import annotations

import gzip
from urllib.parse import quote

import brotli
import pytest
from staff_fixtures import cheap_hashing  # noqa: F401 - fixtures
from staff_fixtures import staff_app  # noqa: F401

ANGRY = "handling-angry-customers"
CATEGORY = "complaints-and-angry-customers"
PUBLIC_PAGES = ["/", "/faq", f"/articles/{ANGRY}", f"/categories/{CATEGORY}"]


# -- compression ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding, decompress", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_pages_are_sent_compressed(client, encoding, decompress):
    """GIVEN a browser that accepts brotli (or only gzip) THEN HTML, CSS and JS come compressed,
    and decompress to exactly the page the server would send uncompressed."""
    plain = client.get("/faq")
    packed = client.get("/faq", headers={"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 3


def test_static_files_are_compressed_but_fonts_are_not(client):
    page = client.get("/").get_data(as_text=True)
    css = page.split('href="/static/css/site.css', 1)[1].split('"', 1)[0]
    response = client.get("/static/css/site.css" + css.replace("&amp;", "&"), headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
    assert b"@font-face" in brotli.decompress(response.get_data())
    font = client.get("/static/fonts/ibm-plex-sans-arabic-arabic-400-normal.woff2", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in font.headers  # WOFF2 is compressed already


def test_json_answers_are_compressed(client):
    plain = client.get("/search/suggest", query_string={"q": "خدمة العملاء"})
    assert len(plain.get_data()) >= 500  # above the size worth compressing
    response = client.get("/search/suggest", query_string={"q": "خدمة العملاء"}, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data()) == plain.get_data()


@pytest.mark.parametrize("accept_encoding, expected", [
    (None, None), ("", None), ("identity", None), ("gzip;q=0", None), ("br;q=0, gzip;q=0", None), ("*;q=0", None),
    ("deflate", None), ("zstd", None), ("br;q=0, *", "gzip"), ("gzip; q=0.5, br; q=0.9", "br"),
    ("GZIP;Q=1", "gzip"), ("gzip;q=0.9, br;q=0.1", "gzip"), ("gzip, deflate, br, zstd", "br"), ("*", "br"),
])
@pytest.mark.parametrize("path", ["/faq", "/api/v1/openapi.json", "/static/css/site.css"])
def test_a_coding_is_used_only_when_the_client_accepts_it(client, path, accept_encoding, expected):
    """GIVEN an Accept-Encoding (none, refusals by q=0, a wildcard, spaces around q) THEN the
    response uses a coding only when that header accepts it, the preferred one among them
    (brotli on a tie), and is the same document once decoded."""
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    plain = client.get(path)
    response = client.get(path, headers=headers)
    assert response.status_code == plain.status_code == 200
    assert response.headers.get("Content-Encoding") == expected
    assert "Accept-Encoding" in response.headers["Vary"]
    decompress = {None: bytes, "br": brotli.decompress, "gzip": gzip.decompress}[expected]
    assert decompress(response.get_data()) == plain.get_data()


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_compressed_static_file_has_its_own_etag_and_answers_304(client, encoding):
    plain = client.get("/static/css/site.css")
    first = client.get("/static/css/site.css", headers={"Accept-Encoding": encoding})
    assert first.headers["ETag"] != plain.headers["ETag"]  # another body, another validator
    again = client.get("/static/css/site.css", headers={"Accept-Encoding": encoding, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert "Accept-Ranges" not in first.headers  # a range of the compressed body is no range of the file



def test_a_static_file_is_compressed_once_per_version_and_coding(app, client, monkeypatch):
    """GIVEN site.css fetched with brotli once
    WHEN it is fetched again with brotli, then with gzip
    THEN the second brotli answer comes from the app's cache (no compression), with the same
    bytes, and gzip is compressed once for itself."""
    from kb.web import compression

    calls = []
    real = compression.compress_bytes
    monkeypatch.setattr(compression, "compress_bytes", lambda data, coding: calls.append(coding) or real(data, coding))
    app.extensions["kb_compressed_bodies"] = compression.CompressedBodies()
    first = client.get("/static/css/site.css", headers={"Accept-Encoding": "br"})
    second = client.get("/static/css/site.css", headers={"Accept-Encoding": "br"})
    gzipped = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert calls == ["br", "gzip"]
    assert second.get_data() == first.get_data()
    assert brotli.decompress(second.get_data()) == gzip.decompress(gzipped.get_data()) == client.get("/static/css/site.css").get_data()


def test_the_compressed_bodies_cache_keeps_within_its_size():
    """GIVEN a cache of 10 bytes
    WHEN three 4-byte bodies are put
    THEN the least recently used is dropped and what is kept fits."""
    from kb.web.compression import CompressedBodies

    bodies = CompressedBodies(max_bytes=10)
    bodies.put("a", "br", b"1111")
    bodies.put("b", "br", b"2222")
    assert bodies.get("a", "br") == b"1111"  # now "b" is the least recently used
    bodies.put("c", "br", b"3333")
    assert bodies.get("b", "br") is None and bodies.get("a", "br") == b"1111" and bodies.get("c", "br") == b"3333"


# -- caching: no cookie for readers, ETag and 304 ------------------------------------------


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_set_no_cookie_and_may_be_kept_by_shared_caches(client, path):
    """GIVEN a first-time reader (no cookie) THEN no page of the help center sets a cookie, and
    each says a shared cache may keep it (revalidating with its ETag)."""
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers, response.headers.get("Set-Cookie")
    assert response.headers["Cache-Control"].startswith("public")
    assert response.headers.get("ETag")


@pytest.mark.parametrize("encoding", [None, "gzip", "br"])
def test_an_unchanged_page_answers_304(client, encoding):
    headers = {"Accept-Encoding": encoding} if encoding else {}
    first = client.get(f"/articles/{ANGRY}", headers=headers)
    again = client.get(f"/articles/{ANGRY}", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_reader_who_voted_gets_private_pages(client):
    """GIVEN a reader who voted (their vote is on the page, kept in a cookie)
    THEN their pages are private: a shared cache must not give them to anyone else."""
    vote = client.post(f"/articles/{ANGRY}/feedback", data={"helpful": "yes"})
    assert vote.status_code == 303 and "Set-Cookie" in vote.headers
    page = client.get(f"/articles/{ANGRY}")
    assert page.headers["Cache-Control"].startswith("private")
    assert "Cookie" in page.headers.get("Vary", "")


def test_search_result_pages_are_private(client):
    """A search page is one reader's answer (recorded for the reports, its links carry the
    search's id): a shared cache must not serve it to others."""
    response = client.get("/search", query_string={"q": "العميل"})
    assert response.headers["Cache-Control"].startswith("private")


def test_cache_seconds_follow_the_setting(session_kb, tmp_path):
    from conftest import make_settings
    from kb.web import create_app

    settings = make_settings(tmp_path).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir, page_cache_seconds=120)
    client = create_app(settings, knowledge=session_kb, test_config={"TESTING": True}).test_client()
    assert client.get("/faq").headers["Cache-Control"] == "public, max-age=120"


def test_staff_and_api_answers_are_never_public(client):
    assert "no-store" in client.get("/staff/login").headers["Cache-Control"]
    assert client.get("/api/v1/health").headers.get("Cache-Control", "private").startswith(("private", "no-store"))


# -- pages past the end ----------------------------------------------------------------------


def test_a_search_page_past_the_end_goes_to_the_last_page(client):
    """GIVEN a search with results on a few pages WHEN a link asks for page 40
    THEN the reader lands on the last page of results, not on "no results"."""
    first = client.get("/search", query_string={"q": "العميل"})
    assert first.status_code == 200
    response = client.get("/search", query_string={"q": "العميل", "page": 40})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "page=40" not in location and quote("العميل") in location
    last = client.get(location)
    assert last.status_code == 200 and 'class="result"' in last.get_data(as_text=True)


def test_a_category_page_past_the_end_goes_to_the_last_page(client):
    response = client.get(f"/categories/{CATEGORY}", query_string={"page": 7})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/categories/{CATEGORY}")


# -- images on other sites: the author is told -----------------------------------------------


def test_the_editor_preview_and_save_tell_the_author_about_external_images(staff_app):
    """GIVEN an article with an image on another site WHEN the author previews and saves
    THEN the preview lists it and saving says readers will see a link, not the image."""
    from staff_fixtures import EDITOR
    from staff_fixtures import StaffClient

    staff = StaffClient(staff_app.test_client())
    staff.login(*EDITOR)
    body = "مقدمة\n\n![مخطط](https://cdn.example.com/chart.png)\n"
    preview = staff.post("/staff/preview", data={"body": body})
    assert preview.get_json()["external_images"] == ["https://cdn.example.com/chart.png"]
    assert "<img" not in preview.get_json()["html"]
    form = staff.editor_form(ANGRY)
    form["body"] = form["body"] + "\n\n![مخطط](https://cdn.example.com/chart.png)\n"
    saved = staff.post(f"/staff/articles/{ANGRY}/edit", data={**form, "action": "draft"}, follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "https://cdn.example.com/chart.png" in page
    warnings = page.split("data-preview-warnings", 1)[1].split("</div>", 1)[0]
    assert not warnings.lstrip().startswith("hidden") and "cdn.example.com/chart.png" in warnings


def test_kb_check_warns_about_images_on_other_sites(tmp_path):
    """GIVEN an article with an image on another site THEN ``kb check`` names the file, the
    field and the URL as a warning (the page shows a link, it still passes)."""
    import shutil

    from click.testing import CliRunner
    from conftest import DATA

    from kb.cli import cli

    shutil.copytree(DATA / "articles", tmp_path / "articles")
    article = next((tmp_path / "articles").rglob("positive-language.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\n![مخطط](https://cdn.example.com/chart.png)\n",
                       encoding="utf-8")
    result = CliRunner().invoke(cli, ["--articles-dir", str(tmp_path / "articles"), "--data-dir", str(tmp_path / "data"),
                                      "check"], env={"KB_CLI_LANGUAGE": "en"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "cdn.example.com" in line)
    assert line.startswith("warning") and "positive-language.md" in line and "body" in line


# -- help-center details -------------------------------------------------------------------------


def test_articles_say_how_many_found_them_helpful_once_votes_exist(app, client):
    """GIVEN no votes THEN no count is shown; GIVEN 2 of 3 readers found it helpful THEN the
    article says so (in the page's language), next to its last-updated date."""
    import re

    page = client.get(f"/articles/{ANGRY}").get_data(as_text=True)
    assert 'class="helpful-count"' not in page and "<time datetime=" in page
    analytics = app.extensions["kb_analytics"]
    for visitor, helpful in (("a", True), ("b", True), ("c", False)):
        analytics.record_vote(ANGRY, visitor, helpful, None)
    page = client.get(f"/articles/{ANGRY}").get_data(as_text=True)
    count = re.search(r'class="helpful-count">([^<]+)<', page).group(1)
    assert "2" in count and "3" in count
    breadcrumbs = page.split('class="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
    assert breadcrumbs.count("<li") == 3 and "/categories/" in breadcrumbs


# -- the public catalog: grouped once per catalog state ------------------------------------------


@pytest.fixture
def builds(monkeypatch) -> list:
    """One entry per grouping of the public catalog (kb.web.pages.build_public_catalog)."""
    from kb.web import pages

    made: list = []
    build = pages.build_public_catalog
    monkeypatch.setattr(pages, "build_public_catalog", lambda *args: made.append(1) or build(*args))
    return made


def test_an_in_place_change_to_the_catalog_is_on_the_next_page(staff_app, builds):  # noqa: F811
    """GIVEN pages served from the grouped public catalog
    WHEN an article of the live catalog is edited in place (the same mapping, the same number of
    articles, the index untouched, nobody calling invalidate)
    THEN the next request shows it; the requests before and after reuse one grouping each."""
    from dataclasses import replace

    knowledge = staff_app.extensions["kb"]
    client = staff_app.test_client()
    path = f"/categories/{CATEGORY}"
    for _ in range(3):
        assert "عنوان بعد التعديل" not in client.get(path).get_data(as_text=True)
    assert len(builds) == 1
    knowledge.catalog.articles[ANGRY] = replace(knowledge.catalog.articles[ANGRY], title="عنوان بعد التعديل")
    for _ in range(3):
        assert "عنوان بعد التعديل" in client.get(path).get_data(as_text=True)
    assert client.get("/faq").status_code == 200
    assert len(builds) == 2


def test_the_cache_follows_the_catalogs_version(session_kb, builds):
    """GIVEN a versioned catalog (an ArticleMap, as the live one)
    THEN an unchanged catalog is never regrouped, not even once its ttl has passed; an article
    published in place, one taken down in place, and a new catalog object (a full re-read,
    even with the same articles) are each regrouped at the next read."""
    import time
    from dataclasses import replace
    from types import SimpleNamespace

    from kb.content.articles import ArticleMap
    from kb.content.articles import Catalog
    from kb.web.pages import PublicCatalogCache

    def catalog() -> Catalog:
        return Catalog(articles=ArticleMap(session_kb.catalog.articles), categories=dict(session_kb.catalog.categories))

    knowledge = SimpleNamespace(catalog=catalog())
    cache = PublicCatalogCache(ttl=0.0)
    first = cache.get(knowledge)
    time.sleep(0.05)
    assert cache.get(knowledge) is first and cache.get(knowledge) is first
    assert len(builds) == 1
    draft = next(a for a in knowledge.catalog.articles.values() if a.status == "draft")
    knowledge.catalog.articles[draft.slug] = replace(draft, status="published", audience="public")
    published = cache.get(knowledge)
    assert draft.slug in published.articles and cache.get(knowledge) is published
    knowledge.catalog.articles.pop(draft.slug)
    assert draft.slug not in cache.get(knowledge).articles
    knowledge.catalog = catalog()
    assert cache.get(knowledge) is not published
    assert len(builds) == 4

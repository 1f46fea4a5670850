"""kb.publishing, kb.content.revisions, kb.taxonomy, kb.content.media, kb.watcher: saving articles into files and indexes.

Each test works on a private copy of the test articles and index (``fresh_kb``) with the
real embedding model, so "searchable" means what it means in production.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from kb.content import media
from kb.content import redirects
from kb.content import revisions
from kb import taxonomy
from kb.content.articles import article_paths
from kb.content.articles import text_checksum
from kb.content.articles import read_article_file
from kb.errors import KbError
from kb.content.editing import ArticleForm
from kb.publishing import Conflict
from kb.translation import translate
from kb.translation import translations
from kb.content.editing import ValidationFailed
from kb.content.editing import build_text
from kb.content.editing import form_from_text
from kb.content.editing import set_front_matter_field
from kb.watcher import ArticleWatcher
from kb.watcher import snapshot
from conftest import another_writer
from staff_fixtures import article_text
from staff_fixtures import publisher  # noqa: F401 - fixture
from staff_fixtures import time_budget

SLUG = "positive-language"  # published, public
WORD = "زنجبيلية"  # a word no test article contains


@pytest.fixture
def app_database_url(database_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's database_url)."""
    return database_url


def new_form(**overrides) -> ArticleForm:
    values = dict(
        title="سياسة الشحن المجاني للطلبات",
        slug="free-shipping",
        category="الطلبات والاسترداد",
        tags="شحن، توصيل",
        summary="متى يكون الشحن مجانيًا.",
        body=f"## الشروط\n\n- طلب فوق 200 ريال\n- عنوان داخل المدينة\n\nكلمة نادرة: {WORD}.",
        faq=[("هل الشحن مجاني؟", "نعم للطلبات فوق 200 ريال.")],
    )
    values.update(overrides)
    return ArticleForm(**values)


def slugs(knowledge, query: str, **kwargs) -> list[str]:
    return [hit.slug for hit in knowledge.search(query, mode="keyword", **kwargs)]


# -- create, publish, draft ----------------------------------------------------------------------


def test_publish_new_article_is_searchable_at_once(publisher):
    """GIVEN a new article WHEN published THEN its file exists and keyword + semantic search find it."""
    started = time.monotonic()
    result = publisher.create(new_form(), "publish")
    findable = "free-shipping" in slugs(publisher.knowledge, WORD)
    elapsed = time.monotonic() - started
    print(f"\npublish-to-searchable (service): {elapsed:.2f} s (load {os.getloadavg()[0]:.1f})")
    assert findable  # how fast: scripts/bench_cluster.py (timing is a benchmark's job, not a test's)
    assert result.state == "published" and result.index_error is None
    path = publisher.articles_dir / "orders" / "free-shipping.md"
    article, problems = read_article_file(path, publisher.articles_dir)
    assert not [p for p in problems if p.severity == "error"]
    assert article.status == "published" and article.tags == ("شحن", "توصيل") and article.faq[0].q == "هل الشحن مجاني؟"
    # Its new passages are embedded in the background, after the acknowledgement (the worker may already be done).
    assert result.vectors_pending or publisher.knowledge.index_status("free-shipping") == "searchable"
    assert publisher.knowledge.catch_up_vectors()
    assert publisher.knowledge.index_status("free-shipping") == "searchable"
    semantic = [h.slug for h in publisher.knowledge.search("هل التوصيل بالمجان", mode="semantic", limit=3)]
    assert "free-shipping" in semantic


def test_an_article_over_the_size_limit_is_refused_with_a_clear_error(publisher):
    """The editor refuses a body over max_article_bytes (1 MB by default), says so beside the
    body field, and writes nothing."""
    huge = new_form(body="## قسم\n\n" + "كلمة طويلة جدا " * 80_000)
    with pytest.raises(ValidationFailed) as refused:
        publisher.create(huge, "publish")
    error = refused.value.errors["body"]
    assert error.startswith("The article is larger than allowed (") and "the limit is 1.0" in error
    arabic = translate(error, translations("ar").gettext)
    assert "أكبر من الحد المسموح" in arabic and "والحد 1.0" in arabic
    assert not (publisher.articles_dir / "orders" / "free-shipping.md").exists()



def test_a_body_with_a_nul_character_is_refused_before_anything_is_written(publisher):
    """The editor refuses a NUL character (byte 0) beside the body field and writes nothing: no
    file, no revision (on PostgreSQL the revision could not hold it)."""
    with pytest.raises(ValidationFailed) as refused:
        publisher.create(new_form(body="## قسم\n\nنص\x00مخفي"), "publish")
    assert "NUL" in refused.value.errors["body"]
    assert not (publisher.articles_dir / "orders" / "free-shipping.md").exists()

def test_a_publish_that_cannot_reach_the_index_is_retried_until_it_is_searchable(publisher, monkeypatch):
    """GIVEN another process holding the index's write lock longer than a publish waits
    WHEN an article is published
    THEN the file and its revision are saved, the result says the index update failed (the
    editor then does not call it searchable), and once the lock is free the background
    worker indexes it without anyone publishing again."""
    knowledge = publisher.knowledge
    original = knowledge.store.write_lock
    monkeypatch.setattr(knowledge.store, "write_lock", lambda timeout=30.0: original(timeout=min(timeout, 0.3)))
    with another_writer(knowledge.store.root, hold_for=60):
        result = publisher.create(new_form(), "publish")
        assert result.index_error and "Another process is writing the index" in result.index_error
        assert (publisher.articles_dir / "orders" / "free-shipping.md").exists()
        assert revisions.history(publisher.db, "free-shipping")[0].state == "published"
        assert knowledge.index_status("free-shipping") == "not_indexed"
        assert slugs(knowledge, WORD) == []
    deadline = time.monotonic() + time_budget(30)
    while "free-shipping" not in slugs(knowledge, WORD) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "free-shipping" in slugs(knowledge, WORD)


def test_new_draft_is_written_but_hidden_from_customers(publisher):
    publisher.create(new_form(), "draft")
    text = (publisher.articles_dir / "orders" / "free-shipping.md").read_text(encoding="utf-8")
    assert "status: draft" in text
    assert "free-shipping" not in slugs(publisher.knowledge, WORD)
    assert "free-shipping" in slugs(publisher.knowledge, WORD, include_drafts=True)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": ""}, "title"),
    ({"slug": "bad slug/x"}, "slug"),
    ({"slug": "_hidden"}, "slug"),
    ({"slug": "positive-language"}, "slug"),  # taken
    ({"category": ""}, "category"),
    ({"lang": "fr"}, "lang"),
    ({"audience": "everyone"}, "audience"),
    ({"body": "   "}, "body"),
    ({"faq": [("سؤال بلا جواب", "")]}, "faq"),
])
def test_validation_reports_the_field_and_writes_nothing(publisher, overrides, field):
    before = sorted(p.name for p in publisher.articles_dir.rglob("*.md"))
    with pytest.raises(ValidationFailed) as caught:
        publisher.create(new_form(**overrides), "publish")
    assert field in caught.value.errors
    assert sorted(p.name for p in publisher.articles_dir.rglob("*.md")) == before


# -- editing a published article -----------------------------------------------------------------


def test_draft_of_published_article_stays_pending_until_published(publisher):
    """GIVEN a published article WHEN an edit is saved as draft THEN the file and search keep the live version."""
    opened = publisher.open(SLUG)
    live_text = opened.file_text
    edited = replace(opened.form, body=opened.form.body + f"\n\nفقرة جديدة فيها {WORD}.")
    result = publisher.save(SLUG, edited, "draft", opened.token)
    assert result.state == "pending"
    assert opened.path.read_text(encoding="utf-8") == live_text
    assert SLUG not in slugs(publisher.knowledge, WORD)
    reopened = publisher.open(SLUG)
    assert reopened.pending is not None and WORD in reopened.form.body

    publisher.save(SLUG, reopened.form, "publish", reopened.token)
    assert WORD in opened.path.read_text(encoding="utf-8")
    assert SLUG in slugs(publisher.knowledge, WORD)
    assert publisher.open(SLUG).pending is None


def test_unpublish_keeps_pending_edit_and_hides_article(publisher):
    opened = publisher.open(SLUG)
    publisher.save(SLUG, replace(opened.form, summary="ملخص جديد"), "draft", opened.token)
    publisher.unpublish(SLUG)
    text = opened.path.read_text(encoding="utf-8")
    assert "status: draft" in text and text.replace("status: draft", "status: published") == opened.file_text
    assert SLUG not in slugs(publisher.knowledge, "اللغة الإيجابية")
    assert publisher.open(SLUG).form.summary == "ملخص جديد"
    with pytest.raises(KbError):
        publisher.unpublish(SLUG)


def test_save_keeps_front_matter_fields_the_form_does_not_show(publisher):
    path = publisher.articles_dir / "communication" / "with-extra.md"
    path.write_text(article_text("مقال فيه حقل إضافي", "نص.", translation_of=SLUG), encoding="utf-8")
    publisher.knowledge.upsert(path)
    opened = publisher.open("with-extra")
    assert opened.form.extra == {"translation_of": SLUG}
    publisher.save("with-extra", replace(opened.form, body="نص معدل."), "publish", opened.token)
    article, _ = read_article_file(path, publisher.articles_dir)
    assert article.translation_of == SLUG and article.body.strip() == "نص معدل."


# -- conflicts -----------------------------------------------------------------------------------


def test_second_save_of_the_same_version_is_a_conflict_and_nothing_is_lost(publisher):
    """GIVEN two editors opened the same article WHEN both publish THEN the second is refused, both kept."""
    first = publisher.open(SLUG)
    second = publisher.open(SLUG)
    publisher.save(SLUG, replace(first.form, summary="نسخة الأول"), "publish", first.token)
    with pytest.raises(Conflict) as caught:
        publisher.save(SLUG, replace(second.form, summary="نسخة الثاني"), "publish", second.token)
    conflict = caught.value
    assert "نسخة الأول" in conflict.theirs and "نسخة الثاني" in conflict.yours
    assert any(line.kind == "add" and "نسخة الثاني" in line.text for line in conflict.diff)
    assert "نسخة الأول" in first.path.read_text(encoding="utf-8")
    kept = revisions.get(publisher.db, conflict.revision_id)
    assert kept.state == "conflict" and "نسخة الثاني" in kept.text
    # Saving again with the token the conflict page carries is a deliberate overwrite.
    publisher.save(SLUG, replace(second.form, summary="نسخة الثاني"), "publish", conflict.token)
    assert "نسخة الثاني" in first.path.read_text(encoding="utf-8")


def test_one_checksum_for_the_file_the_token_and_the_revisions(publisher):
    """GIVEN an article re-saved on disk by a Windows editor (byte-order mark, CRLF line ends)
    WHEN the editor opens it THEN it sees the loader's text, and the token and the index carry
    the loader's checksum (the page says "searchable", not "not indexed");
    WHEN two editors save it THEN the revisions' stored checksums compare equal to the checksum
    of the text now live, so the refused editor is told who saved first."""
    path = publisher.article(SLUG).path
    plain = path.read_bytes().decode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode("utf-8"))
    article = publisher.knowledge.upsert(path)
    opened = publisher.open(SLUG)
    assert opened.file_text == plain and opened.token.split(":")[0] == article.checksum
    assert publisher.knowledge.index_status(SLUG, text_checksum(opened.file_text)) != "not_indexed"
    first_editor = SimpleNamespace(id=None, email="first@example.com")
    second = publisher.open(SLUG)
    result = publisher.save(SLUG, replace(opened.form, summary="نسخة الأول"), "publish", opened.token, user=first_editor)
    saved = revisions.get(publisher.db, result.revision_id)
    assert saved.checksum == text_checksum(saved.text) == publisher.knowledge.catalog.articles[SLUG].checksum
    with pytest.raises(Conflict) as caught:
        publisher.save(SLUG, replace(second.form, summary="نسخة الثاني"), "publish", second.token)
    assert caught.value.who == "first@example.com"


def test_pending_drafts_conflict_too(publisher):
    first = publisher.open(SLUG)
    second = publisher.open(SLUG)
    publisher.save(SLUG, replace(first.form, summary="أ"), "draft", first.token)
    with pytest.raises(Conflict):
        publisher.save(SLUG, replace(second.form, summary="ب"), "draft", second.token)


def test_file_changed_outside_the_editor_is_a_conflict(publisher):
    opened = publisher.open(SLUG)
    opened.path.write_text(opened.file_text.replace("اللغة الإيجابية", "اللغة اللطيفة", 1), encoding="utf-8")
    with pytest.raises(Conflict) as caught:
        publisher.save(SLUG, opened.form, "publish", opened.token)
    assert "اللغة اللطيفة" in caught.value.theirs


# -- revisions -----------------------------------------------------------------------------------


def test_revisions_record_who_what_when_and_restore_as_draft(publisher):
    user = type("U", (), {"id": 7, "email": "e@example.com"})()
    opened = publisher.open(SLUG)
    publisher.save(SLUG, replace(opened.form, summary="الملخص الأول"), "publish", opened.token, user)
    opened = publisher.open(SLUG)
    publisher.save(SLUG, replace(opened.form, summary="الملخص الثاني"), "publish", opened.token, user)
    history = revisions.history(publisher.db, SLUG)
    assert [r.state for r in history] == ["published", "published"]
    assert history[0].user_email == "e@example.com" and history[0].created_at
    lines = revisions.diff(history[1].text, history[0].text)
    assert {("del", "summary: الملخص الأول"), ("add", "summary: الملخص الثاني")} <= {(l.kind, l.text) for l in lines}

    result = publisher.restore_revision(SLUG, history[1].id, user)
    assert result.state == "pending"  # published article: the restored text waits for publishing
    assert publisher.open(SLUG).form.summary == "الملخص الأول"
    assert "الملخص الثاني" in publisher.open(SLUG).file_text


def test_revisions_survive_a_new_connection(publisher, fresh_dir, app_database_url):
    from kb.store.db import Database

    opened = publisher.open(SLUG)
    publisher.save(SLUG, opened.form, "publish", opened.token)
    again = Database(app_database_url or fresh_dir / "data" / "kb.sqlite3").connection()
    assert len(revisions.history(again, SLUG)) == 1


# -- delete, trash, restore ----------------------------------------------------------------------


def test_delete_moves_to_trash_and_restore_brings_it_back(publisher):
    path = publisher.open(SLUG).path
    item = publisher.delete(SLUG)
    assert not path.exists() and (publisher.articles_dir / item.trash_path).exists()
    assert item.trash_path.startswith("_trash/")
    assert SLUG not in slugs(publisher.knowledge, "اللغة الإيجابية")
    assert SLUG not in publisher.knowledge.catalog.articles
    assert [t.slug for t in publisher.trash()] == [SLUG]

    publisher.restore_from_trash(item.id)
    assert path.exists() and publisher.trash() == []
    assert SLUG in slugs(publisher.knowledge, "اللغة الإيجابية")
    assert [r.state for r in revisions.history(publisher.db, SLUG)] == ["restored", "deleted"]


def test_restore_refuses_when_the_slug_was_reused(publisher):
    item = publisher.delete(SLUG)
    publisher.create(new_form(slug=SLUG, category="التواصل مع العملاء"), "publish")
    with pytest.raises(KbError) as caught:
        publisher.restore_from_trash(item.id)
    assert caught.value.status == 409


# -- renames -------------------------------------------------------------------------------------


def test_slug_rename_moves_file_history_and_leaves_redirect(publisher):
    opened = publisher.open(SLUG)
    publisher.save(SLUG, opened.form, "draft", opened.token)  # a pending draft, to carry over
    opened = publisher.open(SLUG)
    result = publisher.save(SLUG, replace(opened.form, slug="kind-words"), "publish", opened.token)
    assert result.slug == "kind-words"
    assert not opened.path.exists() and opened.path.with_name("kind-words.md").exists()
    assert "kind-words" in slugs(publisher.knowledge, "اللغة الإيجابية")
    assert SLUG not in publisher.knowledge.catalog.articles
    assert redirects.target(publisher.db, "/articles/positive-language") == "/articles/kind-words"
    assert {r.slug for r in revisions.history(publisher.db, "kind-words")} == {"kind-words"}
    assert revisions.history(publisher.db, SLUG) == []


def test_redirect_chains_collapse_and_live_paths_lose_their_redirect(publisher):
    db = publisher.db
    redirects.add(db, "/articles/a", "/articles/b")
    redirects.add(db, "/articles/b", "/articles/c")
    assert redirects.target(db, "/articles/a") == "/articles/c"
    redirects.add(db, "/articles/c", "/articles/a")  # renamed back: a is live again
    assert redirects.target(db, "/articles/a") is None
    assert redirects.target(db, "/articles/c") == "/articles/a"


def test_category_rename_rewrites_articles_and_redirects(publisher):
    rows = taxonomy.read_categories(publisher.articles_dir)
    for row in rows:
        if row.slug == "communication":
            row.name, row.slug = "فن التواصل", "talking"
    changed = taxonomy.save_categories(publisher, rows)
    assert changed == 1
    article = publisher.knowledge.catalog.articles[SLUG]
    assert article.category == "فن التواصل" and article.category_slug == "talking"
    assert "category: فن التواصل" in article.path.read_text(encoding="utf-8")
    assert "فن التواصل" in publisher.knowledge.catalog.categories
    assert redirects.target(publisher.db, "/categories/communication") == "/categories/talking"
    assert SLUG in [h.slug for h in publisher.knowledge.search("اللغة الإيجابية", mode="keyword", category="talking")]


def test_categories_in_use_cannot_be_removed(publisher):
    rows = [r for r in taxonomy.read_categories(publisher.articles_dir) if r.slug != "communication"]
    with pytest.raises(ValidationFailed):
        taxonomy.save_categories(publisher, rows)


def test_synonyms_editor_round_trip_changes_search(publisher):
    lines = taxonomy.read_synonyms_lines(publisher.articles_dir)
    assert lines.startswith("#") and "استرجاع, استرداد" in lines
    assert slugs(publisher.knowledge, "قرنبيطة") == []
    taxonomy.save_synonyms(publisher, lines + "قرنبيطة، اللغة الإيجابية\n")
    assert "positive-language" in slugs(publisher.knowledge, "قرنبيطة")
    with pytest.raises(ValidationFailed):
        taxonomy.save_synonyms(publisher, "وحيدة\n")


# -- files: crash safety, text round trips -------------------------------------------------------


def test_save_interrupted_before_the_rename_leaves_the_old_file(publisher, monkeypatch):
    """GIVEN a publish WHEN the process dies between writing the temp file and the rename
    THEN the old file is intact, no temp file is left, and search still serves the old version."""
    opened = publisher.open(SLUG)
    before = opened.path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr("kb.fsutil.os.replace", crash)
    with pytest.raises(OSError):
        publisher.save(SLUG, replace(opened.form, body="نص جديد تمامًا " + WORD), "publish", opened.token)
    monkeypatch.undo()
    assert opened.path.read_bytes() == before
    assert [p.name for p in opened.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert SLUG not in slugs(publisher.knowledge, WORD)
    assert [r.state for r in revisions.history(publisher.db, SLUG)] == []


def test_form_text_round_trip():
    form = new_form(extra={"translation_of": "x"})
    text = build_text(form, "draft", Path("orders/free-shipping.md"))
    assert text.startswith("---\ntitle: سياسة الشحن المجاني للطلبات\n")
    again = form_from_text(text, Path("orders/free-shipping.md"))
    assert again == replace(form, tags="شحن, توصيل")


def test_set_front_matter_field_changes_only_that_line():
    text = "---\ntitle: \"x\"   # a comment\nstatus: published\ntags: [a, b]\n---\n\nbody: not front matter\n"
    assert set_front_matter_field(text, "status", "draft") == text.replace("status: published", "status: draft")
    assert "category: جديد\n---" in set_front_matter_field(text, "category", "جديد")


# -- images --------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_image_upload_checks_content_and_size(tmp_path):
    url = media.save_image(tmp_path, "My Photo!.PNG", PNG)
    assert url.startswith("/media/") and url.endswith(".png") and "my-photo-" in url
    path, mime = media.media_file(tmp_path, url.removeprefix("/media/"))
    assert path.read_bytes() == PNG and mime == "image/png"
    for name, data in [("x.png", b"<svg onload=alert(1)>"), ("x.png", b"<html>"), ("x.gif", b"")]:
        with pytest.raises(KbError):
            media.save_image(tmp_path, name, data)
    with pytest.raises(KbError) as caught:
        media.save_image(tmp_path, "big.png", PNG + b"\x00" * media.MAX_IMAGE_BYTES)
    assert caught.value.status == 413
    assert media.media_file(tmp_path, "../../etc/passwd") is None
    assert media.media_file(tmp_path, "x.svg") is None


# -- outside changes and concurrency -------------------------------------------------------------


def test_watcher_picks_up_files_changed_outside_the_editor(publisher):
    watcher = ArticleWatcher(publisher.knowledge, interval=0.1)
    assert watcher.check() is True  # the first pass compares the folder with the index
    assert watcher.check() is False
    path = publisher.articles_dir / "communication" / "pulled.md"
    path.write_text(article_text("مقال وصل عبر git pull", f"فيه {WORD}."), encoding="utf-8")
    assert watcher.check() is True
    assert "pulled" in slugs(publisher.knowledge, WORD)
    path.unlink()
    assert watcher.check() is True
    assert "pulled" not in slugs(publisher.knowledge, WORD)


def test_watcher_snapshot_sees_exactly_the_article_files(tmp_path):
    """The scan lists what load_articles reads (nested folders; '_' and '.' names skipped),
    plus the categories and synonyms files, and notices an edit in place."""
    root = tmp_path / "articles"
    for relative in ("a.md", "sub/b.md", "sub/deeper/c.md", "_drafts/x.md", ".git/y.md", "sub/_z.md", "notes.txt"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("x", encoding="utf-8")
    (root / "_categories.yml").write_text("[]", encoding="utf-8")
    found = snapshot(root)
    expected = {str(p.relative_to(root)) for p in article_paths(root)} | {"_categories.yml"}
    assert set(found) == expected == {"a.md", os.path.join("sub", "b.md"), os.path.join("sub", "deeper", "c.md"), "_categories.yml"}
    (root / "sub" / "b.md").write_text("longer text", encoding="utf-8")
    assert snapshot(root) != found
    assert snapshot(tmp_path / "missing") == {}


def test_watcher_sees_every_collection_file_the_cluster_shares(tmp_path):
    """GIVEN the editors' files beside the articles (categories, synonyms, dialect forms)
    WHEN the watcher scans the folder
    THEN it lists each one, and each is a path the cluster shares (one list for both)."""
    from kb.content.articles import COLLECTION_FILES
    from kb.replication.collection import is_collection_path

    root = tmp_path / "articles"
    root.mkdir()
    for name in COLLECTION_FILES:
        (root / name).write_text("[]", encoding="utf-8")
    (root / "_unrelated.yml").write_text("[]", encoding="utf-8")
    assert set(snapshot(root)) == set(COLLECTION_FILES) == {"_categories.yml", "_synonyms.yml", "_dialect.yml"}
    assert all(is_collection_path(name) for name in COLLECTION_FILES) and not is_collection_path("_unrelated.yml")


def test_watcher_thread_reindexes_in_the_background(publisher):
    watcher = ArticleWatcher(publisher.knowledge, interval=0.1).start()
    try:
        path = publisher.articles_dir / "communication" / "pulled.md"
        path.write_text(article_text("مقال وصل عبر git pull", f"فيه {WORD}."), encoding="utf-8")
        deadline = time.monotonic() + 10
        while "pulled" not in slugs(publisher.knowledge, WORD) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "pulled" in slugs(publisher.knowledge, WORD)
    finally:
        watcher.stop()


def test_searches_are_not_blocked_while_publishing(publisher):
    """Searches in other threads keep answering (old results, then new) while an article is indexed."""
    publisher.knowledge.search("اللغة الإيجابية")  # warm up this thread's searcher and the model
    stop = threading.Event()
    latencies: list[float] = []

    def search_loop():
        while not stop.is_set():
            started = time.monotonic()
            publisher.knowledge.search("اللغة الإيجابية", mode="keyword")
            latencies.append(time.monotonic() - started)

    thread = threading.Thread(target=search_loop)
    thread.start()
    try:
        started = time.monotonic()
        publisher.create(new_form(), "publish")
        publish_seconds = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
    assert len(latencies) >= 3
    assert max(latencies) < max(0.5, publish_seconds / 2)

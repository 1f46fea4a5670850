"""A restart that repairs: KnowledgeBase.start (reconcile with the articles folder, clean-up of
interrupted writes, the vector worker), the watcher's first pass, hits of vanished articles,
a model that no longer matches the index, the article size limit, and publishes that a
long indexing job must not hold up.

Each test works on ``fresh_kb`` (a private copy of the test articles and index, real model).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import another_writer
from conftest import make_settings
from kb import KnowledgeBase
from kb.cli import cli
from kb.search.indexing import Manifest
from kb.search.indexing import embedding_texts
from kb.publishing import clean_up_articles
from kb.search.passages import about_text
from kb.search.passages import article_passages
from kb.search.store import IndexStore
from kb.watcher import ArticleWatcher
from staff_fixtures import article_text
from staff_fixtures import cheap_hashing  # noqa: F401 - fixture
from staff_fixtures import editor  # noqa: F401 - fixture
from staff_fixtures import staff_app  # noqa: F401 - fixture

REFUND = "سياسة-الاسترداد"
REFUND_FILE = Path("orders") / "سياسة-الاسترداد.md"
ANGRY = "handling-angry-customers"
NEW_WORD = "الكركديه"
NEW_ARTICLE = article_text("تتبع الشحنة", f"## أين طلبي؟\n\nتابع شحنتك برقم التتبع {NEW_WORD} من صفحة الطلبات.",
                           category="الطلبات والاسترداد")


def slugs(knowledge: KnowledgeBase, query: str, mode: str = "keyword") -> list[str]:
    return [hit.slug for hit in knowledge.search(query, mode=mode, limit=50)]


def restarted(knowledge: KnowledgeBase, embedder=None) -> KnowledgeBase:
    """A new KnowledgeBase on the same folders, as a restarted server has."""
    return KnowledgeBase.from_settings(knowledge.settings, embedder=embedder or knowledge.embedder)


def path_of(knowledge: KnowledgeBase, slug: str) -> Path:
    return knowledge.catalog.articles[slug].path


# -- reconcile at start ------------------------------------------------------------------------------


def test_changes_made_while_the_server_was_down_are_indexed_at_start(fresh_kb):
    """GIVEN a live index
    WHEN, with no server running, a file is added, one edited, one deleted and one renamed
    THEN start() reports each, and search finds exactly what the folder holds."""
    articles = fresh_kb.articles_dir
    (articles / "orders" / "tracking.md").write_text(NEW_ARTICLE, encoding="utf-8")
    refund = articles / REFUND_FILE
    refund.write_text(refund.read_text(encoding="utf-8").replace("لمندوب الشحن", "لساعي الزنجبيل"), encoding="utf-8")
    angry = path_of(fresh_kb, ANGRY)
    angry_words = fresh_kb.catalog.articles[ANGRY].title
    angry.unlink()
    renamed_from = path_of(fresh_kb, "positive-language")
    renamed_from.rename(renamed_from.with_name("positive-words.md"))

    server = restarted(fresh_kb)
    report = server.start()
    try:
        assert (report.index.added, report.index.changed, report.index.deleted) == (2, 1, 2)
        assert "2 added, 1 changed, 2 deleted" in report.summary()
        assert slugs(server, NEW_WORD) == ["tracking"]
        assert slugs(server, "الزنجبيل") == [REFUND]
        assert REFUND not in slugs(server, "لمندوب الشحن")
        assert ANGRY not in slugs(server, angry_words)
        assert "positive-words" in server.catalog.articles and "positive-language" not in server.catalog.articles
        assert server.catch_up_vectors()  # the worker embeds what start() keyword-indexed
        assert "tracking" in slugs(server, "أين طلبي وكيف أتتبع الشحنة", mode="semantic")
        assert server.health()["semantic_caught_up"] is True
    finally:
        server.close()


def test_start_with_nothing_changed_changes_nothing(fresh_kb):
    generation = fresh_kb.store.current()
    before = (generation / "manifest.json").read_bytes()
    server = restarted(fresh_kb)
    report = server.start()
    server.close()
    assert (report.index.added, report.index.changed, report.index.deleted, report.removed) == (0, 0, 0, ())
    assert fresh_kb.store.current() == generation
    assert (generation / "manifest.json").read_bytes() == before


def test_a_publish_cut_short_by_a_crash_is_indexed_at_start(fresh_kb):
    """The editor wrote the file, then the process died before the index update: search still
    had the old text.  The next start indexes the file's text."""
    refund = fresh_kb.articles_dir / REFUND_FILE
    refund.write_text(refund.read_text(encoding="utf-8").replace("لمندوب الشحن", "لساعي الزنجبيل"), encoding="utf-8")
    assert slugs(fresh_kb, "الزنجبيل") == []  # what the crash left
    server = restarted(fresh_kb)
    server.start()
    server.close()
    assert slugs(server, "الزنجبيل") == [REFUND]


def test_the_watchers_first_pass_reconciles(fresh_kb):
    """A watcher started without a reconcile before it compares the folder with the index at once."""
    (fresh_kb.articles_dir / "orders" / "tracking.md").write_text(NEW_ARTICLE, encoding="utf-8")
    path_of(fresh_kb, ANGRY).unlink()
    server = restarted(fresh_kb)
    watcher = ArticleWatcher(server, interval=60)
    assert watcher.check() is True
    assert slugs(server, NEW_WORD) == ["tracking"]
    assert ANGRY not in server.catalog.articles
    assert watcher.check() is False  # nothing new since
    server.close()


# -- a hit whose article is gone ---------------------------------------------------------------------


def test_a_hit_whose_article_file_is_gone_is_dropped_not_an_error(fresh_kb, tmp_path):
    """GIVEN an article deleted on disk while the index still holds it (nothing reconciled)
    WHEN a search matches it, in Python, over the API and on the site
    THEN the other hits come back (HTTP 200) and the gone article is not among them."""
    from kb.web import create_app

    title_word = "الاسترداد"
    assert REFUND in slugs(fresh_kb, title_word)
    (fresh_kb.articles_dir / REFUND_FILE).unlink()
    server = restarted(fresh_kb)  # reads the folder afresh: the article is not in its catalog
    assert REFUND not in slugs(server, title_word)
    assert REFUND not in slugs(server, "أريد أموالي", mode="hybrid")
    app = create_app(make_settings(tmp_path, articles_dir=fresh_kb.articles_dir, index_dir=fresh_kb.store.root),
                     knowledge=server, test_config={"TESTING": True})
    client = app.test_client()
    response = client.get("/api/v1/search", query_string={"q": title_word})
    assert response.status_code == 200
    assert REFUND not in [r["slug"] for r in response.get_json()["results"]]
    assert client.get("/search", query_string={"q": title_word}).status_code == 200


# -- clean-up of interrupted writes ------------------------------------------------------------------


def _leave_crash_debris(knowledge: KnowledgeBase) -> dict[str, Path]:
    root = knowledge.store.root
    generation = knowledge.store.current()
    half_built = root / "gen-99"
    (half_built / "whoosh").mkdir(parents=True)
    (half_built / "whoosh" / "MAIN_x.seg").write_bytes(b"\0" * 64)
    debris = {
        "article_tmp": knowledge.articles_dir / "orders" / ".tracking.md.k2j4h5g6.tmp",
        "manifest_tmp": generation / ".manifest.json.ab12cd_3.tmp",
        "current_tmp": root / ".CURRENT.zz9yx8w7.tmp",
        "snapshot_tmp": generation / ".vectors-2.bin.q1w2e3r4.tmp",
        "whoosh_toc_tmp": generation / "whoosh" / "_MAIN_1.toc.1733389123.456",  # Whoosh's own temp name
        "half_built": half_built,
    }
    for name, path in debris.items():
        if name != "half_built":
            path.write_text("half written", encoding="utf-8")
    return debris


def test_start_removes_temp_files_and_half_built_generations(fresh_kb):
    debris = _leave_crash_debris(fresh_kb)
    keep = fresh_kb.articles_dir / "orders" / ".notes.tmp"  # not an atomic write's name: not ours
    keep.write_text("mine", encoding="utf-8")
    live = fresh_kb.store.current()
    assert clean_up_articles(fresh_kb) == ["orders/.tracking.md.k2j4h5g6.tmp"]
    server = restarted(fresh_kb)
    report = server.start()
    server.close()
    assert sorted(report.removed) == sorted(["gen-99", f"{live.name}/.manifest.json.ab12cd_3.tmp",
                                             ".CURRENT.zz9yx8w7.tmp", f"{live.name}/.vectors-2.bin.q1w2e3r4.tmp",
                                             f"{live.name}/whoosh/_MAIN_1.toc.1733389123.456"])
    assert not any(path.exists() for path in debris.values())
    assert keep.exists()
    assert fresh_kb.store.current() == live
    assert slugs(server, "الشحن") == [REFUND]


def test_clean_up_leaves_a_build_in_progress_alone(fresh_kb):
    """Another process holds the write lock (it may be building gen-99 right now): nothing is removed."""
    debris = _leave_crash_debris(fresh_kb)
    with another_writer(fresh_kb.store.root):
        assert IndexStore(fresh_kb.store.root).clean_up() == []
        assert debris["half_built"].exists() and debris["manifest_tmp"].exists()
    assert "gen-99" in IndexStore(fresh_kb.store.root).clean_up()


# -- the model no longer matches the index -----------------------------------------------------------


class OtherModel:
    """The real model under another fingerprint: what an upgrade or a kb.toml change looks like."""

    def __init__(self, real, gate: threading.Event | None = None):
        self.real = real
        self.fingerprint = "another-model-0001"
        self.name = "another model"
        self.dim = real.dim
        self.max_tokens = real.max_tokens
        self.batch_size = 16
        self.gate = gate
        self.started = threading.Event()
        self.embedded = 0

    def embed_query(self, text: str) -> np.ndarray:
        return self.real.embed_query(text)

    def embed_passages(self, texts):
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(60), "the test never released the model"
        self.embedded += len(texts)
        return self.real.embed_passages(texts)


@pytest.mark.slow
def test_a_model_change_serves_keyword_only_and_re_embeds_in_the_background(fresh_kb, caplog):
    """GIVEN an index embedded with one model
    WHEN it is opened by a server whose model has another fingerprint
    THEN searches answer by keyword only (never comparing the two models' vectors), the log,
    the health report and the staff page say why, the watcher and a publish neither fail nor
    rebuild, and the vector worker re-embeds everything, after which semantic search is back."""
    gate = threading.Event()
    model = OtherModel(fresh_kb.embedder, gate)
    server = restarted(fresh_kb, embedder=model)
    caplog.set_level(logging.INFO)
    server.start()  # what kb serve does before serving
    hits = server.search("الاسترداد", mode="hybrid")
    assert hits and {hit.matched_by for hit in hits} == {"keyword"}
    assert any("semantic search is off" in r.getMessage() and "another model" in r.getMessage() for r in caplog.records)
    health = server.health()
    assert health["semantic"] is False and "keyword search only" in health["semantic_error"]
    assert server.vector_worker.running
    assert model.started.wait(30)  # the re-embedding started by itself
    assert server.health()["background"]["task"] == "re-embedding"

    # Meanwhile the watcher and a publish work, keyword first, no rebuild:
    generation = server.store.current()
    (server.articles_dir / "orders" / "tracking.md").write_text(NEW_ARTICLE, encoding="utf-8")
    report = server.index(background=True)
    assert not report.full and report.added == 1
    assert server.store.current() == generation
    assert slugs(server, NEW_WORD) == ["tracking"]

    gate.set()
    assert server.catch_up_vectors()
    server.close()
    health = server.health()
    assert health["semantic"] is True and health["semantic_error"] is None and health["semantic_caught_up"]
    manifest = Manifest.load(server.store.current())
    assert manifest.embedder_fingerprint == model.fingerprint
    texts = sum(len(embedding_texts(a, p)) for a in server.catalog.articles.values() for p in article_passages(a))
    texts += sum(about_text(a) is not None for a in server.catalog.articles.values())  # about vectors
    assert manifest.vectors == texts
    assert "tracking" in slugs(server, "أين طلبي وكيف أتتبع الشحنة", mode="semantic")


def test_the_staff_page_says_semantic_search_is_off_while_re_embedding(fresh_kb, fresh_dir, cheap_hashing):
    from kb.store import users
    from kb.web import create_app
    from staff_fixtures import EDITOR
    from staff_fixtures import StaffClient

    gate = threading.Event()
    server = restarted(fresh_kb, embedder=OtherModel(fresh_kb.embedder, gate))
    server.start()
    app = create_app(make_settings(fresh_dir), knowledge=server, test_config={"TESTING": True})
    users.create_user(app.extensions["kb_db"].connection(), *EDITOR, role="editor")
    client = StaffClient(app.test_client())
    assert client.login(*EDITOR).status_code == 302
    try:
        page = client.get("/staff/articles").get_data(as_text=True)
        assert "البحث بالمعنى متوقف مؤقتًا" in page and "another model" in page
        health = client.get("/api/v1/health").get_json()
        assert health["semantic"] is False and "another model" in health["semantic_error"]
    finally:
        gate.set()
        server.close()


# -- a first start: keyword search at once, the model's work in the background ----------------------


class GatedModel:
    """The real model (same fingerprint, latent terms and all) whose passage embedding waits
    for the test: the state a first start is in while the model works."""

    def __init__(self, real, gate: threading.Event):
        self.real = real
        self.gate = gate
        self.started = threading.Event()

    def __getattr__(self, name):
        return getattr(self.real, name)

    def embed_passages(self, texts):
        self.started.set()
        assert self.gate.wait(60), "the test never released the model"
        return self.real.embed_passages(texts)


def first_start_folders(session_dir: Path, base: Path) -> Path:
    """A new install's folders: the session's articles and one more, no index, and a copy of
    the session's embedding cache (the model reads only the new article)."""
    import shutil

    shutil.copytree(session_dir / "articles", base / "articles")
    (base / "articles" / "orders" / "tracking.md").write_text(NEW_ARTICLE, encoding="utf-8")
    shutil.copytree(session_dir / "index" / "embeddings", base / "index" / "embeddings")
    return base


@pytest.mark.slow
def test_a_first_start_serves_keyword_search_at_once_and_embeds_in_the_background(session_kb, session_dir, tmp_path,
                                                                                  caplog):
    """GIVEN an articles folder and no index (a new install's first ``kb serve``), one article
    of which the model has never read
    WHEN the server starts
    THEN the start writes the keyword index without waiting for the model (every article
    searchable by keyword, the start report and the health report say semantic search follows),
    and the vector worker embeds every article, then measures the "no answer" cut, after which
    search is the same as on an index ``kb index`` built at once from the same folder (same
    hits, same scores, same threshold).

    Both indexes start from a copy of the session's embedding cache (the other articles and the
    calibration's probes are read from there, as a rebuild reads them): the model reads only
    the new article, and the test takes seconds instead of the first start's minute."""
    gate = threading.Event()
    model = GatedModel(session_kb.embedder, gate)
    server = KnowledgeBase.from_settings(make_settings(first_start_folders(session_dir, tmp_path / "served")),
                                         embedder=model)
    caplog.set_level(logging.INFO)
    try:
        started = server.start()  # what kb serve does before serving
        assert started.built and started.index.full and started.index.vectors == 0
        assert started.index.pending_vectors == len(server.catalog.articles) > 0
        assert str(started.index.semantic) == "following in the background"
        assert "searchable by keyword while their vectors are embedded" in started.summary()
        hits = server.search("الاسترداد", mode="hybrid")
        assert hits and {hit.matched_by for hit in hits} == {"keyword"}
        assert slugs(server, NEW_WORD, mode="hybrid") == ["tracking"]
        assert model.started.wait(30)  # the worker is embedding, by itself
        health = server.health()
        assert health["semantic"] is False and not health["semantic_caught_up"]
        assert "embedded for the first time" in health["semantic_error"]
        assert health["background"]["task"] == "embedding" and health["answer_threshold"] is None
        assert not any(r.levelno >= logging.ERROR for r in caplog.records)  # a first start is no fault

        gate.set()
        assert server.catch_up_vectors()
        deadline = time.monotonic() + 120
        while server.health()["answer_threshold"] is None and time.monotonic() < deadline:
            time.sleep(0.1)  # the worker measures the cut on its pass after the vectors
        health = server.health()
        assert health["semantic"] is True and health["semantic_caught_up"] and health["semantic_error"] is None
        assert any("search is complete" in r.getMessage() for r in caplog.records)

        built = KnowledgeBase.from_settings(make_settings(first_start_folders(session_dir, tmp_path / "built")),
                                            embedder=session_kb.embedder)
        built.build()  # kb index: everything at once
        assert health["answer_threshold"] == built.health()["answer_threshold"] is not None
        for question in ("عميل معصب وش اسوي", "كيف أسترد المبلغ", "how do I get a refund", "أين طلبي وكيف أتتبع الشحنة",
                         "ما هو سعر الذهب اليوم"):
            ours, theirs = server.search_page(question), built.search_page(question)
            assert [(h.slug, round(h.score, 4)) for h in ours.hits] == [(h.slug, round(h.score, 4)) for h in theirs.hits]
        assert "tracking" in slugs(server, "أين طلبي وكيف أتتبع الشحنة", mode="semantic")
        built.close()
    finally:
        gate.set()
        server.close()


def test_the_staff_page_says_semantic_search_follows_during_a_first_start(session_kb, session_dir, tmp_path,
                                                                          cheap_hashing):
    """GIVEN a first start whose vector worker is embedding WHEN an editor opens the staff
    pages (Arabic) THEN they say why search by meaning is paused, in Arabic, and how far the
    embedding is."""
    from kb.store import users
    from kb.web import create_app
    from staff_fixtures import EDITOR
    from staff_fixtures import StaffClient

    gate = threading.Event()
    model = GatedModel(session_kb.embedder, gate)
    settings = make_settings(first_start_folders(session_dir, tmp_path))
    server = KnowledgeBase.from_settings(settings, embedder=model)
    server.start()
    app = create_app(settings, knowledge=server, test_config={"TESTING": True})
    users.create_user(app.extensions["kb_db"].connection(), *EDITOR, role="editor")
    client = StaffClient(app.test_client())
    assert client.login(*EDITOR).status_code == 302
    try:
        assert model.started.wait(30)
        page = client.get("/staff/articles").get_data(as_text=True)
        assert "البحث بالمعنى متوقف مؤقتًا" in page and "تُحسب متجهات المقالات لأول مرة" in page
        assert re.search(r"حساب المتجهات في الخلفية: \d+ من %d مقال" % len(server.catalog.articles), page)
        assert "for the first time" not in page
    finally:
        gate.set()
        server.close()


# -- size limit --------------------------------------------------------------------------------------


def big_article(size: int) -> str:
    paragraph = "يشرح هذا القسم سياسة الاسترداد والشحن بالتفصيل لكل حالة ممكنة. " * 20
    sections = []
    while sum(len(s.encode("utf-8")) for s in sections) < size:
        sections.append(f"## القسم {len(sections) + 1}\n\n{paragraph}\n")
    return article_text("دليل ضخم", "\n".join(sections))


def test_kb_check_and_kb_index_reject_an_article_over_the_size_limit(fresh_kb, fresh_dir):
    from click.testing import CliRunner

    path = fresh_kb.articles_dir / "orders" / "huge.md"
    path.write_text(big_article(1_100_000), encoding="utf-8")
    env = {"KB_SECRET_KEY": "x"}
    args = ["--articles-dir", str(fresh_kb.articles_dir), "--index-dir", str(fresh_kb.store.root),
            "--data-dir", str(fresh_dir / "data")]
    result = CliRunner().invoke(cli, [*args, "check"], env=env)
    assert result.exit_code == 1
    assert "orders/huge.md" in result.output and "over the limit of 1.0 MB" in result.output
    assert "max_article_bytes" in result.output
    server = restarted(fresh_kb)
    report = server.index(background=True)
    server.close()
    assert report.added == 0 and "huge" not in server.catalog.articles


# -- long index work never blocks a publish ----------------------------------------------------------


@pytest.mark.slow
def test_a_publish_goes_through_while_a_large_article_is_being_embedded(fresh_kb, monkeypatch):
    """GIVEN the watcher indexed a large article (keyword at once) and the vector worker is
    embedding it with a model that does not finish until the test says so
    WHEN a staff publish upserts another article, with a write-lock wait of at most 1 s
    THEN the publish succeeds and is searchable at once (the embedding holds no lock), and
    the large article gets its vectors once the model finishes."""
    gate = threading.Event()
    slow = SlowModel(fresh_kb.embedder, gate)
    server = restarted(fresh_kb, embedder=slow)
    original = server.store.write_lock
    monkeypatch.setattr(server.store, "write_lock", lambda timeout=30.0: original(timeout=min(timeout, 1.0)))
    (server.articles_dir / "orders" / "guide.md").write_text(big_article(15_000), encoding="utf-8")
    report = server.index(background=True)  # what the watcher runs
    assert report.added == 1 and report.pending_vectors == 1
    assert slugs(server, "دليل ضخم")[0] == "guide"  # keyword-searchable before any vector exists
    assert slow.started.wait(30)  # the worker is inside the model now

    refund = server.articles_dir / REFUND_FILE
    refund.write_text(refund.read_text(encoding="utf-8").replace("لمندوب الشحن", "لساعي الزنجبيل"), encoding="utf-8")
    server.upsert(refund)  # keyword-indexed at once; its new passage waits for the worker, not the other way round
    assert slugs(server, "الزنجبيل") == [REFUND]
    assert server.index_status("guide") == "keyword_only"

    gate.set()
    assert server.catch_up_vectors()
    server.close()
    assert server.index_status("guide") == "searchable"
    assert "guide" in slugs(server, "دليل ضخم لسياسة الاسترداد", mode="semantic")


class SlowModel(OtherModel):
    """The real model with its real fingerprint, held at the first batch until `gate` is set."""

    def __init__(self, real, gate: threading.Event):
        super().__init__(real, gate)
        self.fingerprint = real.fingerprint
        self.name = real.name


def test_the_size_limit_is_a_setting(fresh_kb):
    settings = fresh_kb.settings.with_overrides(max_article_bytes=2_000)
    server = KnowledgeBase.from_settings(settings, embedder=fresh_kb.embedder)
    problems = [p for p in server.catalog.problems if "max_article_bytes" in p.reason]
    assert problems and all(p.severity == "error" for p in problems)
    assert len(server.catalog.articles) < len(fresh_kb.catalog.articles)


# -- the editor says where a publish stands ------------------------------------------------------------


def test_the_editor_says_when_a_publish_is_searchable_and_when_semantic_search_caught_up(staff_app, editor):
    form = {"title": "سياسة الشحن المجاني", "slug": "free-shipping", "category": "الطلبات والاسترداد", "lang": "ar",
            "audience": "public", "body": f"## الشروط\n\nطلب فوق 200 ريال. كلمة نادرة: {NEW_WORD}.", "action": "publish"}
    response = editor.post("/staff/articles/new", form)
    assert response.status_code == 302
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "نُشر المقال، وصار في نتائج البحث" in page
    assert 'data-index-status="keyword_only"' in page or 'data-index-status="searchable"' in page
    assert staff_app.extensions["kb"].catch_up_vectors()
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-index-status="searchable"' in page and "بالكلمات وبالمعنى" in page

"""Writing the indexes: kb.search.indexing, kb.search.store, kb.search.cache, kb.fsutil and the write
side of KnowledgeBase (build, index, upsert, delete).

Tests that change anything work on ``fresh_kb``: a copy of the session's articles and
index (with its embedding cache, so only changed text reaches the model).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kb import KbError
from kb import KnowledgeBase
from kb.content.articles import Article
from kb.content.articles import FaqEntry
from kb.fsutil import atomic_write_json
from kb.fsutil import atomic_write_text
from kb.search.indexing import CHUNK_WORDS
from kb.search.indexing import Manifest
from kb.search.indexing import embedding_texts
from kb.search.indexing import load_vectors
from kb.search.cache import EmbeddingCache
from kb.search.passages import about_text
from kb.search.passages import article_passages
from kb.search.passages import split_words
from kb.search.store import SCHEMA_VERSION
from kb.search.store import IndexStore
from conftest import make_settings

REFUND = "سياسة-الاسترداد"
REFUND_FILE = Path("orders") / "سياسة-الاسترداد.md"
ANGRY = "handling-angry-customers"
NEW_ARTICLE = """---
title: "تتبع الشحنة"
category: "الطلبات والاسترداد"
---
## أين طلبي؟

تابع شحنتك برقم التتبع الكركديه من صفحة الطلبات.
"""


def slugs(knowledge: KnowledgeBase, query: str, mode: str = "keyword") -> list[str]:
    return [hit.slug for hit in knowledge.search(query, mode=mode, limit=50)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def generations(knowledge: KnowledgeBase) -> list[str]:
    return sorted(p.name for p in knowledge.store.root.glob("gen-*"))


class CountingEmbedder:
    """The real model behind a wrapper that counts the passages it embeds.

    `fingerprint` stands for the model's identity: a different one is a different model.
    """

    def __init__(self, real, fingerprint: str | None = None, fail: bool = False):
        self.real = real
        self.fingerprint = fingerprint or real.fingerprint
        self.name = f"counting {self.fingerprint}"
        self.dim = real.dim
        self.max_tokens = real.max_tokens
        self.batch_size = 16
        self.fail = fail
        self.embedded = 0

    def embed_query(self, text: str) -> np.ndarray:
        return self.real.embed_query(text)

    def embed_passages(self, texts):
        if self.fail and texts:
            raise RuntimeError("the model crashed mid-build")
        self.embedded += len(texts)
        return self.real.embed_passages(texts)


# -- incremental updates -------------------------------------------------------------------------------


def test_upsert_changes_results_without_a_rebuild(fresh_kb):
    """GIVEN an indexed article with the word الشحن
    WHEN the file is edited (الشحن replaced by a new word) and upserted
    THEN the new word is found, the old one is not, and no new generation was built."""
    before = generations(fresh_kb)
    assert slugs(fresh_kb, "الشحن") == [REFUND]
    assert slugs(fresh_kb, "زنجبيل") == []
    path = fresh_kb.articles_dir / REFUND_FILE
    edit(path, "لمندوب الشحن", "لساعي الزنجبيل")
    article = fresh_kb.upsert(path)
    assert article.slug == REFUND
    assert slugs(fresh_kb, "الشحن") == []
    assert slugs(fresh_kb, "زنجبيل") == [REFUND]
    hit = fresh_kb.search("زنجبيل", mode="keyword")[0]
    assert hit.section == "خطوات طلب الإرجاع"
    assert "<mark>الزنجبيل</mark>" in hit.snippet
    assert generations(fresh_kb) == before
    assert fresh_kb.catch_up_vectors()  # (kb index would count an article it gives vectors to as changed)
    assert fresh_kb.index().changed == 0  # the manifest already knows the new checksum


def test_upsert_of_a_new_file_adds_the_article(fresh_kb):
    path = fresh_kb.articles_dir / "orders" / "tracking.md"
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    fresh_kb.upsert(path)
    assert slugs(fresh_kb, "الكركديه") == ["tracking"]  # by keyword at once
    assert fresh_kb.catch_up_vectors()
    assert fresh_kb.health()["semantic_caught_up"] is True
    assert "tracking" in [hit.slug for hit in fresh_kb.search("أين طلبي وكيف أتتبع الشحنة", mode="semantic")]
    assert fresh_kb.health()["articles"] == 12


def test_upsert_replaces_the_old_vectors(fresh_kb):
    health = fresh_kb.health()
    path = fresh_kb.articles_dir / REFUND_FILE
    edit(path, "## مدة الاسترداد", "## المدة")
    fresh_kb.upsert(path)
    fresh_kb.catch_up_vectors()
    after = fresh_kb.health()
    assert after["vectors"] == health["vectors"]  # same passages, same count: old ones removed
    hits = fresh_kb.search("كم تستغرق إعادة المال إلى البطاقة", mode="semantic")
    refund = next(hit for hit in hits if hit.slug == REFUND)
    assert refund.section != "مدة الاسترداد"


def test_delete_removes_the_article_from_keyword_and_semantic_search(fresh_kb):
    vectors = fresh_kb.health()["vectors"]
    passages = len(article_passages(fresh_kb.catalog.articles[REFUND]))
    assert REFUND in slugs(fresh_kb, "استرداد المبلغ")
    assert REFUND in slugs(fresh_kb, "أريد أموالي", mode="semantic")
    assert fresh_kb.delete(REFUND) is True
    for mode in ("keyword", "semantic", "hybrid"):
        assert REFUND not in slugs(fresh_kb, "استرداد المبلغ", mode=mode), mode
        assert REFUND not in slugs(fresh_kb, "أريد أموالي", mode=mode), mode
    health = fresh_kb.health()
    assert health["articles"] == 10
    assert health["vectors"] <= vectors - passages
    assert REFUND not in [a.slug for a in fresh_kb.related(ANGRY, limit=20)]
    assert fresh_kb.delete(REFUND) is False
    assert fresh_kb.delete("never-existed") is False


def test_upsert_rejects_an_invalid_article(fresh_kb):
    path = fresh_kb.articles_dir / "orders" / "broken.md"
    path.write_text("---\ntitle: x\nstatus: archived\n---\nbody\n", encoding="utf-8")
    with pytest.raises(KbError) as caught:
        fresh_kb.upsert(path)
    assert caught.value.code == "invalid_article"
    assert caught.value.field == "status"
    assert "archived" in caught.value.message


def test_upsert_rejects_a_slug_used_by_another_file(fresh_kb):
    path = fresh_kb.articles_dir / "orders" / "copy.md"
    path.write_text(f'---\ntitle: "نسخة"\nslug: {REFUND}\n---\nنص\n', encoding="utf-8")
    with pytest.raises(KbError) as caught:
        fresh_kb.upsert(path)
    assert caught.value.code == "duplicate_slug"
    assert slugs(fresh_kb, "الشحن") == [REFUND]


# -- kb index: only what changed ---------------------------------------------------------------------------


def test_index_with_nothing_changed_does_nothing(fresh_kb):
    report = fresh_kb.index()
    assert (report.full, report.added, report.changed, report.deleted) == (False, 0, 0, 0)
    assert report.articles == 11
    assert report.semantic == "on"


def test_index_reindexes_only_what_changed(fresh_kb):
    """GIVEN an up-to-date index
    WHEN one file is edited, one is added and one is removed
    THEN kb index reports exactly that, and search follows."""
    articles = fresh_kb.articles_dir
    edit(articles / REFUND_FILE, "لمندوب الشحن", "لساعي الزنجبيل")
    report = fresh_kb.index()
    assert (report.full, report.added, report.changed, report.deleted) == (False, 0, 1, 0)
    assert slugs(fresh_kb, "زنجبيل") == [REFUND]

    (articles / "orders" / "tracking.md").write_text(NEW_ARTICLE, encoding="utf-8")
    (articles / "complaints-and-angry-customers" / "handling-angry-customers.md").unlink()
    report = fresh_kb.index()
    assert (report.added, report.changed, report.deleted) == (1, 0, 1)
    assert report.articles == 11
    assert slugs(fresh_kb, "الكركديه") == ["tracking"]
    assert ANGRY not in slugs(fresh_kb, "العميل الغاضب") + slugs(fresh_kb, "العميل الغاضب", mode="semantic")


def test_another_knowledge_base_on_the_same_index_sees_the_changes(fresh_kb):
    """A second server worker (or 'kb index' in another process) changes the index: readers reload."""
    reader = KnowledgeBase.from_settings(fresh_kb.settings, embedder=fresh_kb.embedder)
    assert slugs(reader, "زنجبيل") == []
    path = fresh_kb.articles_dir / REFUND_FILE
    edit(path, 'title: "سياسة استرداد المبلغ وإرجاع المنتجات"', 'title: "سياسة الزنجبيل"')
    fresh_kb.upsert(path)
    hits = reader.search("زنجبيل", mode="keyword")
    assert [hit.slug for hit in hits] == [REFUND]
    assert hits[0].title == "سياسة الزنجبيل"  # the catalog was re-read too
    fresh_kb.delete(REFUND)
    assert slugs(reader, "زنجبيل") == []
    assert REFUND not in reader.catalog.articles


def test_an_upsert_appends_to_the_vector_journal_and_leaves_the_snapshot_alone(fresh_kb):
    """GIVEN a live index and a second reader that already holds its vectors
    WHEN an article is added
    THEN only a journal record is written (the snapshot file is untouched), the manifest
    counts the new vectors, and the reader applies the record to the index it holds."""
    reader = KnowledgeBase.from_settings(fresh_kb.settings, embedder=fresh_kb.embedder)
    assert "tracking" not in slugs(reader, "أين طلبي وكيف أتتبع الشحنة", mode="semantic")
    held = reader._read_state().vectors
    generation = fresh_kb.store.current()
    before = Manifest.load(generation)
    snapshot = (generation / before.vector_snapshot).stat()
    path = fresh_kb.articles_dir / "orders" / "tracking.md"
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    fresh_kb.upsert(path)
    fresh_kb.catch_up_vectors()
    after = Manifest.load(generation)
    assert after.vector_snapshot == before.vector_snapshot and after.vector_journal_bytes > 0
    assert (generation / before.vector_snapshot).stat().st_mtime_ns == snapshot.st_mtime_ns
    assert after.vectors == before.vectors + after.articles["tracking"]["vectors"] == len(load_vectors(generation))
    assert "tracking" in slugs(reader, "أين طلبي وكيف أتتبع الشحنة", mode="semantic")
    assert reader._read_state().vectors is held  # applied in place, not loaded again
    fresh_kb.delete("tracking")
    assert "tracking" not in slugs(reader, "أين طلبي وكيف أتتبع الشحنة", mode="semantic")
    assert Manifest.load(generation).vectors == before.vectors


def test_a_writer_that_crashes_before_its_manifest_changes_nothing_readers_see(fresh_kb, monkeypatch):
    """GIVEN a live index
    WHEN an upsert dies after appending its vectors but before writing the manifest
    THEN readers still see the old vectors (the record is not committed), and the next
    'kb index' redoes the article and cuts the torn record off."""
    generation = fresh_kb.store.current()
    committed = Manifest.load(generation).vector_journal_bytes
    path = fresh_kb.articles_dir / "orders" / "tracking.md"
    path.write_text(NEW_ARTICLE, encoding="utf-8")

    def crash(self, generation):
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(Manifest, "save", crash)
        with pytest.raises(OSError, match="Input/output"):
            fresh_kb.upsert(path)
    journal = generation / Manifest.load(generation).vector_files(generation).journal_path.name
    assert journal.stat().st_size > committed  # the uncommitted record is there ...
    reader = KnowledgeBase.from_settings(fresh_kb.settings, embedder=fresh_kb.embedder)
    assert "tracking" not in reader._read_state().vectors.slugs()  # ... and ignored
    report = fresh_kb.index()
    assert report.added == 1
    manifest = Manifest.load(generation)
    assert journal.stat().st_size == manifest.vector_journal_bytes
    assert "tracking" in load_vectors(generation).slugs()
    assert "tracking" in slugs(reader, "أين طلبي وكيف أتتبع الشحنة", mode="semantic")


def test_a_long_journal_is_folded_into_a_new_snapshot(fresh_kb, monkeypatch):
    """GIVEN a journal that has grown past the compaction size
    WHEN the next change is written
    THEN snapshot and journal become one new snapshot, search gives the same results, and
    readers holding the old one load the new one."""
    monkeypatch.setattr("kb.search.vector_files.COMPACT_MIN_BYTES", 0)
    monkeypatch.setattr("kb.search.vector_files.COMPACT_SHARE", 0.0)
    reader = KnowledgeBase.from_settings(fresh_kb.settings, embedder=fresh_kb.embedder)
    query = "أين طلبي وكيف أتتبع الشحنة"
    reader.search(query, mode="semantic")
    generation = fresh_kb.store.current()
    first = Manifest.load(generation).vector_snapshot
    path = fresh_kb.articles_dir / "orders" / "tracking.md"
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    fresh_kb.upsert(path)
    fresh_kb.catch_up_vectors()
    manifest = Manifest.load(generation)
    assert manifest.vector_snapshot != first and manifest.vector_journal_bytes == 0
    assert len(load_vectors(generation)) == manifest.vectors
    assert "tracking" in slugs(reader, query, mode="semantic")
    assert slugs(reader, query, mode="semantic") == slugs(fresh_kb, query, mode="semantic")


def test_a_moved_articles_folder_and_index_keep_working(fresh_kb, tmp_path):
    """The manifest names files relative to the articles folder: copy both elsewhere and they still agree."""
    moved = tmp_path / "moved"
    shutil.copytree(fresh_kb.articles_dir, moved / "articles")
    shutil.copytree(fresh_kb.settings.index_dir, moved / "index")
    manifest = Manifest.load(IndexStore(moved / "index").current())
    assert manifest.articles[REFUND]["path"] == REFUND_FILE.as_posix()
    settings = fresh_kb.settings.with_overrides(articles_dir=moved / "articles", index_dir=moved / "index")
    writer = KnowledgeBase.from_settings(settings, embedder=fresh_kb.embedder)
    reader = KnowledgeBase.from_settings(settings, embedder=fresh_kb.embedder)
    assert slugs(reader, "الشحن") == [REFUND]
    report = writer.index()
    assert (report.full, report.added, report.changed, report.deleted) == (False, 0, 0, 0)
    path = moved / "articles" / REFUND_FILE
    edit(path, 'title: "سياسة استرداد المبلغ وإرجاع المنتجات"', 'title: "سياسة الزنجبيل"')
    writer.upsert(path)
    hits = reader.search("زنجبيل", mode="keyword")
    assert [(hit.slug, hit.title) for hit in hits] == [(REFUND, "سياسة الزنجبيل")]  # re-read from the moved folder


def test_crossing_ann_threshold_turns_the_live_vectors_into_ivf_without_embedding(fresh_kb):
    """GIVEN an index built with exact vector search
    WHEN ann_threshold is lowered below its size and the index is brought up to date
    THEN the vector index becomes IVF, rebuilt from its own vectors, and semantic search still works."""
    before = load_vectors(fresh_kb.store.current())
    assert before.kind == "flat"
    settings = fresh_kb.settings.with_overrides(ann_threshold=len(before) // 2)
    knowledge = KnowledgeBase.from_settings(settings, embedder=fresh_kb.embedder)
    report = knowledge.index()
    assert not report.full and (report.added, report.changed) == (0, 0)
    after = load_vectors(knowledge.store.current())
    assert after.kind == "ivf" and len(after) == len(before)
    assert REFUND in slugs(knowledge, "أريد أموالي", mode="semantic")
    path = knowledge.articles_dir / REFUND_FILE
    edit(path, 'title: "سياسة استرداد المبلغ وإرجاع المنتجات"', 'title: "سياسة الاسترداد"')
    knowledge.upsert(path)
    assert load_vectors(knowledge.store.current()).kind == "ivf"


# -- full rebuilds and crashes ---------------------------------------------------------------------------------


def test_full_rebuild_makes_a_new_generation_and_keeps_the_previous(fresh_kb):
    store = fresh_kb.store
    first = store.current()
    report = fresh_kb.index(full=True)
    assert report.full and report.reason == "full rebuild requested"
    assert report.added == 11
    second = store.current()
    assert second != first
    assert store.current_file.read_text(encoding="utf-8").strip() == second.name
    assert slugs(fresh_kb, "الشحن") == [REFUND]
    fresh_kb.build()
    assert generations(fresh_kb) == sorted([second.name, store.current().name])  # the oldest is gone


def test_crash_during_a_full_build_keeps_the_old_index_serving(fresh_kb, monkeypatch):
    """GIVEN a live index
    WHEN a full rebuild fails halfway (the build writes some files, then raises)
    THEN CURRENT still names the old generation, the half-built one is removed, and search works."""
    current = fresh_kb.store.current_file.read_text(encoding="utf-8")
    before = generations(fresh_kb)

    def crash(generation: Path, *args, **kwargs):
        (generation / "whoosh").mkdir()
        (generation / "whoosh" / "half-written.seg").write_bytes(b"\0" * 100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kb.indexer.build_generation", crash)
    with pytest.raises(OSError, match="No space left"):
        fresh_kb.index(full=True)
    assert fresh_kb.store.current_file.read_text(encoding="utf-8") == current
    assert generations(fresh_kb) == before
    assert slugs(fresh_kb, "الشحن") == [REFUND]
    assert REFUND in slugs(fresh_kb, "أريد أموالي", mode="semantic")


def test_model_crash_during_a_full_build_keeps_the_old_index_serving(fresh_kb):
    """The embedder raises after the keyword index of the new generation was written."""
    current = fresh_kb.store.current()
    (fresh_kb.articles_dir / "orders" / "tracking.md").write_text(NEW_ARTICLE, encoding="utf-8")
    crashing = KnowledgeBase.from_settings(fresh_kb.settings, embedder=CountingEmbedder(fresh_kb.embedder, fail=True))
    with pytest.raises(RuntimeError, match="crashed mid-build"):
        crashing.index(full=True)
    assert fresh_kb.store.current() == current
    assert slugs(fresh_kb, "الكركديه") == []
    assert slugs(fresh_kb, "الشحن") == [REFUND]
    report = fresh_kb.index()  # a later run repairs what the crash left
    assert (report.full, report.added) == (False, 1)
    assert slugs(fresh_kb, "الكركديه") == ["tracking"]


def test_index_format_change_triggers_a_full_rebuild(fresh_kb):
    generation = fresh_kb.store.current()
    manifest = Manifest.load(generation)
    manifest.schema_version = SCHEMA_VERSION - 1
    manifest.save(generation)
    report = fresh_kb.index()
    assert report.full and "format" in report.reason
    assert fresh_kb.store.current() != generation


def test_no_index_yet(tmp_path):
    knowledge = KnowledgeBase.from_settings(make_settings(tmp_path), embedder=False)
    with pytest.raises(KbError) as caught:
        knowledge.search("العملاء")
    assert caught.value.code == "no_index" and caught.value.status == 503
    assert knowledge.health()["status"] == "no_index"
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.md").write_text(NEW_ARTICLE, encoding="utf-8")
    with pytest.raises(KbError) as caught:
        knowledge.upsert(tmp_path / "articles" / "a.md")
    assert caught.value.code == "no_index"
    report = knowledge.ensure_index()
    assert report is not None and report.reason == "no index yet" and report.articles == 1
    assert knowledge.ensure_index() is None
    assert slugs(knowledge, "الكركديه") == ["a"]


# -- one writer at a time; readers never wait ----------------------------------------------------------------------


def short_lock_timeout(knowledge: KnowledgeBase, monkeypatch, seconds: float) -> None:
    original = knowledge.store.write_lock
    monkeypatch.setattr(knowledge.store, "write_lock", lambda timeout=30.0: original(timeout=seconds))


def test_second_writer_waits_then_fails_clearly(fresh_kb, held_lock, monkeypatch):
    short_lock_timeout(fresh_kb, monkeypatch, 0.5)
    path = fresh_kb.articles_dir / REFUND_FILE
    edit(path, "لمندوب الشحن", "لساعي الزنجبيل")
    started = time.monotonic()
    with pytest.raises(KbError) as caught:
        fresh_kb.upsert(path)
    assert time.monotonic() - started >= 0.5
    assert caught.value.code == "index_busy" and caught.value.status == 503
    assert "Another process is writing the index" in caught.value.message
    for write in (lambda: fresh_kb.delete(REFUND), lambda: fresh_kb.index()):
        with pytest.raises(KbError, match="Another process"):
            write()
    # readers never take the lock
    assert slugs(fresh_kb, "الشحن") == [REFUND]
    assert REFUND in slugs(fresh_kb, "أريد أموالي", mode="hybrid")


def test_second_writer_proceeds_once_the_lock_is_free(fresh_kb, held_lock):
    path = fresh_kb.articles_dir / REFUND_FILE
    edit(path, "لمندوب الشحن", "لساعي الزنجبيل")
    threading.Timer(0.3, held_lock.set).start()
    started = time.monotonic()
    fresh_kb.upsert(path)
    assert time.monotonic() - started >= 0.25
    assert slugs(fresh_kb, "زنجبيل") == [REFUND]


def test_readers_keep_working_during_writes(fresh_kb):
    """GIVEN a writer thread upserting the same article again and again
    WHEN another thread searches all the while
    THEN every search succeeds and always finds the stable article."""
    path = fresh_kb.articles_dir / REFUND_FILE
    original = path.read_text(encoding="utf-8")
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for i in range(4):
                path.write_text(original.replace("لمندوب الشحن", f"لمندوب كركم{i}"), encoding="utf-8")
                fresh_kb.upsert(path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    # Searched once first, as a serving KnowledgeBase is warmed before writes come: the catalog
    # is read from the folder on first use, and read while the writer's plain write_text has
    # the file half-written it would lack the article until the upsert (a flake under load).
    assert REFUND in slugs(fresh_kb, "استرداد المبلغ")
    writer = threading.Thread(target=write)
    writer.start()
    searches = 0
    while not done.is_set() or searches < 5:
        assert REFUND in slugs(fresh_kb, "استرداد المبلغ")
        assert slugs(fresh_kb, "العميل الغاضب")[0] == ANGRY
        searches += 1
    writer.join()
    assert errors == []
    assert searches >= 5
    assert slugs(fresh_kb, "كركم3") == [REFUND]
    assert slugs(fresh_kb, "كركم2") == []


# -- the embedding cache --------------------------------------------------------------------------------------


@pytest.fixture
def one_article_dir(session_kb, tmp_path) -> Path:
    """One article, and the session's embedding cache (so the real model's vectors are known)."""
    (tmp_path / "articles" / "orders").mkdir(parents=True)
    shutil.copy(session_kb.articles_dir / REFUND_FILE, tmp_path / "articles" / REFUND_FILE)
    shutil.copytree(session_kb.store.root / "embeddings", tmp_path / "index" / "embeddings")
    return tmp_path


def test_embedding_cache_reuses_vectors_and_a_model_change_re_embeds_everything(session_kb, one_article_dir):
    """GIVEN an article whose passages the cache knows for the real model
    WHEN it is indexed with that model, re-indexed unchanged, then indexed with another model
    THEN the first two embed nothing, the model change embeds every passage, and an edit
    embeds only the edited passage."""
    settings = make_settings(one_article_dir)
    article = session_kb.catalog.articles[REFUND]
    texts = sum(len(embedding_texts(article, p)) for p in article_passages(article))
    texts += about_text(article) is not None  # the article's about vector (title, summary, tags)

    same_model = CountingEmbedder(session_kb.embedder)
    first = KnowledgeBase.from_settings(settings, embedder=same_model)
    assert first.build().vectors == texts
    assert same_model.embedded == 0
    assert first.index().changed == 0
    assert same_model.embedded == 0

    other_model = CountingEmbedder(session_kb.embedder, fingerprint="another-model-0001")
    second = KnowledgeBase.from_settings(settings, embedder=other_model)
    report = second.index()  # re-embeds into the live generation (outside the write lock), no keyword rebuild
    assert not report.full and "embedding model changed" in report.reason
    assert report.vectors == texts and report.pending_vectors == 0
    assert other_model.embedded == texts
    assert second.index().changed == 0
    assert other_model.embedded == texts

    edit(one_article_dir / "articles" / REFUND_FILE, "لمندوب الشحن", "لساعي الزنجبيل")
    assert second.index().changed == 1
    assert other_model.embedded == texts + 1
    caches = sorted(p.name for p in (one_article_dir / "index" / "embeddings").glob("*.sqlite3"))
    assert f"embeddings-{other_model.fingerprint}.sqlite3" in caches


def test_embedding_cache_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp", 4)
    vectors = {f"h{i}": np.full(4, i, dtype=np.float32) for i in range(1200)}  # more than one SQL chunk
    cache.put_many(vectors)
    found = cache.get_many([*vectors, "unknown"])
    assert set(found) == set(vectors)
    assert np.array_equal(found["h1199"], vectors["h1199"])
    cache.close()
    assert EmbeddingCache(tmp_path, "fp", 4).get_many(["h7"])["h7"].tolist() == [7.0] * 4
    assert EmbeddingCache(tmp_path, "other", 4).get_many(["h7"]) == {}


# -- passages and what the model reads ------------------------------------------------------------------


def test_article_passages_are_sections_then_faq_entries(session_kb):
    article = session_kb.catalog.articles[REFUND]
    passages = article_passages(article)
    assert [p.id for p in passages] == [f"{REFUND}#s{i}" for i in range(4)] + [f"{REFUND}#f0"]
    assert [p.heading for p in passages[:4]] == [None, "شروط الإرجاع", "خطوات طلب الإرجاع", "مدة الاسترداد"]
    faq = passages[-1]
    assert (faq.kind, faq.anchor, faq.faq_index, faq.text) == ("faq", "faq", 0, article.faq[0].a)


def test_an_article_without_text_still_has_one_passage():
    article = Article(slug="empty", title="عنوان فقط", body="", path=Path("empty.md"), summary="ملخص")
    [passage] = article_passages(article)
    assert (passage.id, passage.text) == ("empty#s0", "ملخص")


def test_long_sections_are_cut_into_overlapping_chunks_that_name_their_heading():
    words = [f"w{i}" for i in range(500)]
    body = "## قسم طويل\n\n" + " ".join(words)
    article = Article(slug="long", title="مقال", body=body, path=Path("long.md"), faq=(FaqEntry("سؤال؟", "جواب."),))
    section, faq = article_passages(article)
    texts = embedding_texts(article, section)
    assert len(texts) == 3
    assert all(text.startswith("مقال › قسم طويل\n") for text in texts)
    assert all(len(text.split("\n", 1)[1].split()) <= CHUNK_WORDS for text in texts)
    covered = {word for text in texts for word in text.split("\n", 1)[1].split()}
    assert covered == set(words)
    assert embedding_texts(article, faq) == ["سؤال؟\nجواب."]


def test_a_question_whose_text_repeats_its_title_is_embedded_once():
    question = Article(slug="q", title="كيف أسترد المبلغ؟", body="كيف  أسترد المبلغ؟\n", path=Path("q.md"))
    [passage] = article_passages(question)
    assert embedding_texts(question, passage) == ["كيف أسترد المبلغ؟"]
    answer = Article(slug="a", title="كيف أسترد المبلغ؟", body="اطلب الاسترداد من صفحة الطلب.", path=Path("a.md"))
    [passage] = article_passages(answer)
    assert embedding_texts(answer, passage) == ["كيف أسترد المبلغ؟\nاطلب الاسترداد من صفحة الطلب."]


@pytest.mark.parametrize(
    ("count", "max_words", "overlap", "chunks"),
    [(5, 10, 2, 1), (10, 10, 2, 1), (11, 10, 2, 2), (30, 10, 2, 4), (30, 10, 20, 21)],
)
def test_split_words(count, max_words, overlap, chunks):
    text = " ".join(str(i) for i in range(count))
    parts = split_words(text, max_words, overlap)
    assert len(parts) == chunks
    assert parts[-1].split()[-1] == str(count - 1)
    assert all(len(part.split()) <= max_words for part in parts)


# -- the manifest, the store, atomic files -----------------------------------------------------------------


def test_manifest_records_what_the_generation_holds(session_kb):
    manifest = Manifest.load(session_kb.store.current())
    assert manifest.schema_version == SCHEMA_VERSION
    assert manifest.embedder_fingerprint == session_kb.embedder.fingerprint
    assert set(manifest.articles) == set(session_kb.catalog.articles)
    entry = manifest.articles[REFUND]
    assert entry["checksum"] == session_kb.catalog.articles[REFUND].checksum
    assert entry["passages"] == 5
    assert manifest.built_at and manifest.updated_at
    assert Manifest.load(session_kb.store.root / "no-such-generation") is None


def test_store_generations_and_current_pointer(tmp_path):
    store = IndexStore(tmp_path / "index")
    assert store.current() is None
    first = store.new_generation()
    assert first.name == "gen-1" and store.current() is None
    store.activate(first)
    assert store.current() == first
    marker = store.current_marker()
    second, third = store.new_generation(), None
    store.activate(second)
    assert store.current_marker() != marker
    third = store.new_generation()
    store.activate(third)
    assert sorted(p.name for p in store.root.glob("gen-*")) == ["gen-2", "gen-3"]
    store.discard(store.new_generation())
    assert store.new_generation().name == "gen-4"
    store.current_file.write_text("gen-99\n", encoding="utf-8")
    assert store.current() is None


def test_atomic_write_leaves_old_or_new_never_half(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "file.json"
    atomic_write_json(path, {"مفتاح": "قيمة"})
    assert path.read_text(encoding="utf-8") == '{\n "مفتاح": "قيمة"\n}'

    def fail_replace(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError, match="power cut"):
        atomic_write_text(path, "new content")
    assert path.read_text(encoding="utf-8") == '{\n "مفتاح": "قيمة"\n}'
    assert [p.name for p in path.parent.iterdir()] == ["file.json"]

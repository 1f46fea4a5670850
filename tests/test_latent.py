"""The model's latent terms on the dense side (kb.search.latent): stored with the vectors,
read back by searches, blended into the dense ranking; real model, real index."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from kb import KnowledgeBase
from kb.search import keyword
from kb.search.cache import ARTICLE_LATENT_TABLE
from kb.search.cache import LATENT_TABLE
from kb.search.cache import EmbeddingCache
from kb.search.cache import decode_latent
from kb.search.cache import encode_latent
from kb.search.embed import LATENT_TERMS
from kb.search.embed import latent_terms
from kb.search.indexing import VectorWork
from kb.search import article_terms as article_terms_module
from kb.search import latent as latent_module
from kb.search.latent import LatentTerms
from kb.search.latent import blend_latent
from kb.search.term_rows import TermRows
from kb.search.ranking import blend_about
from kb.search.ranking import dense_articles
from conftest import make_settings


# -- the blend (pure) --------------------------------------------------------------------------

def test_an_article_whose_terms_match_better_moves_up_by_at_most_the_weight_in_dense_spreads():
    ranking = [("a", 0.90), ("b", 0.89), ("c", 0.80)]
    blended = blend_latent(ranking, {"a": 0.1, "b": 0.5, "c": 0.3}, 0.6)
    assert [slug for slug, _ in blended] == ["b", "a", "c"]
    spread = np.std([0.90, 0.89, 0.80])
    moved = dict(blended)["b"] - 0.89
    assert 0 < moved <= 0.6 * spread * 1.5  # b is 1.22 standard deviations above the mean


def test_an_article_without_terms_keeps_its_dense_score():
    ranking = [("a", 0.90), ("b", 0.85), ("c", 0.80)]
    blended = dict(blend_latent(ranking, {"a": 0.1, "c": 0.5}, 0.6))
    assert blended["b"] == 0.85
    assert blended["c"] > 0.80 > blended["a"] - 0.1


@pytest.mark.parametrize("latent, weight", [({"a": 0.1, "b": 0.9}, 0.0), ({"a": 0.3}, 0.6), ({"a": 0.3, "b": 0.3}, 0.6)])
def test_no_weight_one_scored_article_or_no_spread_leaves_the_dense_order(latent, weight):
    ranking = [("a", 0.9), ("b", 0.8)]
    assert blend_latent(ranking, latent, weight) == ranking


def test_the_terms_are_standardized_within_each_language():
    # The English articles' terms all match an English question better (0.6-0.7) than any
    # Arabic article's (0.1-0.3): standardized together, both English ones would rise over every
    # Arabic one; apart, each language is ordered by its own terms.
    ranking = [("en-1", 0.86), ("ar-1", 0.85), ("ar-2", 0.84), ("en-2", 0.82), ("ar-3", 0.79)]
    latent = {"en-1": 0.6, "en-2": 0.7, "ar-1": 0.1, "ar-2": 0.3, "ar-3": 0.2}
    groups = {"en-1": "en", "en-2": "en", "ar-1": "ar", "ar-2": "ar", "ar-3": "ar"}
    together = [slug for slug, _ in blend_latent(ranking, latent, 0.6)]
    apart = dict(blend_latent(ranking, latent, 0.6, groups))
    assert together.index("en-2") < together.index("ar-2")
    assert apart["ar-2"] > apart["ar-1"] and apart["ar-2"] > apart["en-2"]
    assert apart["en-2"] > 0.82 and apart["en-1"] < 0.86  # within English, en-2's terms are the better ones
    assert sum(apart[slug] - score for slug, score in ranking if groups[slug] == "ar") == pytest.approx(0.0, abs=1e-9)
    # One language (a benchmark collection): the same as no groups at all.
    assert blend_latent(ranking, latent, 0.6, dict.fromkeys(groups, "ar")) == blend_latent(ranking, latent, 0.6)
    # A language with one scored article keeps its dense score.
    assert dict(blend_latent(ranking, {"en-1": 0.6, "ar-1": 0.1, "ar-2": 0.3}, 0.6, groups))["en-1"] == 0.86


def test_an_article_is_scored_by_its_best_chunk():
    question = np.zeros(8, dtype=np.float32)
    question[[1, 2]] = np.sqrt(0.5)
    chunks = [(np.array([5, 6]), np.array([1.0, 1.0])), (np.array([1, 2, 3]), np.array([2.0, 2.0, 1.0]))]
    terms = TermRows.pack(chunks)
    assert terms.best(question) == pytest.approx(float(np.sqrt(0.5) * 4 / 3), rel=1e-3)  # weights held in 16 bits


def test_many_articles_are_scored_at_once_exactly_as_one_at_a_time():
    random = np.random.default_rng(3)
    question = np.zeros(64, dtype=np.float32)
    question[random.choice(64, 12, replace=False)] = random.random(12)
    question /= np.linalg.norm(question)
    articles = [TermRows.pack([(random.choice(64, n, replace=False), random.random(n)) for n in random.integers(1, 9, chunks)])
                for chunks in (1, 3, 7, 2)]
    assert TermRows.best_of_each(articles, question) == [terms.best(question) for terms in articles]
    assert TermRows.best_of_each([], question) == []


def test_terms_survive_the_cache_s_16_bit_storage():
    ids, weights = np.array([16383, 7, 0]), np.array([3.25, 1.5, 0.015625], dtype=np.float32)
    back_ids, back_weights = decode_latent(encode_latent((ids, weights)))
    assert back_ids.tolist() == [16383, 7, 0]
    assert back_weights.tolist() == weights.tolist()


# -- the real model and index ----------------------------------------------------------------

def test_the_bundled_model_gives_each_text_its_heaviest_latent_terms(session_kb):
    terms = latent_terms(session_kb.embedder)
    assert terms is not None
    [(ids, weights)] = terms(["العميل زعلان جدا من التأخير"])
    assert 0 < len(ids) <= LATENT_TERMS
    assert list(weights) == sorted(weights, reverse=True) and weights[-1] > 0
    [(same, _)] = terms(["العميل زعلان جدا من التأخير"])
    assert same.tolist() == ids.tolist()


def test_every_article_of_a_built_index_has_its_terms(launch_kb):
    latent = launch_kb.latent_terms(launch_kb.embedder)
    articles = list(launch_kb.catalog.articles.values())
    scores = latent.scores(latent.question("كيف أتعامل مع عميل غاضب"), articles)
    assert set(scores) == {article.slug for article in articles}
    assert max(scores, key=scores.get) == "handling-angry-customers"


def test_the_dense_side_is_the_best_passages_blended_with_the_latent_terms_then_the_about_vector(launch_kb):
    """The no-answer cut still sees the plain best-passage cosines."""
    settings, catalog = launch_kb.settings, launch_kb.catalog.articles
    vectors, embedder = launch_kb._read_state().vectors, launch_kb.embedder
    latent = launch_kb.latent_terms(embedder)
    question = "عميل عم يسب عالشات شو بعمل"
    filters = keyword.Filters(include_internal=True)
    plain = dense_articles(question, vectors, embedder, filters, catalog, 30, settings.dense_msa_reading, None,
                           settings.dense_about_weight)
    blended = dense_articles(question, vectors, embedder, filters, catalog, 30, settings.dense_msa_reading, None,
                             settings.dense_about_weight, latent, settings.dense_latent_weight)
    assert blended.cosines == plain.cosines
    assert len(blended.query_vectors) == 2  # a dialect question: its MSA reading is embedded too
    # The terms of the question as typed only.  Standardized within each language (the launch
    # articles have English translations).
    candidates = [catalog[slug] for slug, _ in plain.cosines]
    scores = latent.scores(latent.question(question), candidates)
    assert any(article.lang == "en" for article in candidates)
    expected = blend_latent(plain.cosines, scores, settings.dense_latent_weight,
                            {article.slug: article.lang for article in candidates})
    about: dict[str, float] = {}
    for vector in blended.query_vectors:
        for slug, score in vectors.about_cosines(vector, [slug for slug, _ in expected]).items():
            about[slug] = max(score, about.get(slug, -2.0))
    assert [slug for slug, _ in blended.ranking] == [slug for slug, _ in blend_about(expected, about, settings.dense_about_weight)]
    assert [slug for slug, _ in blended.ranking] != [slug for slug, _ in plain.ranking]


def _dense(knowledge, question: str, latent=None, weight: float = 0.0):
    """The launch articles' dense side for an Arabic question, with `latent` at `weight` (None: without terms)."""
    settings = knowledge.settings
    return dense_articles(question, knowledge._read_state().vectors, knowledge.embedder, keyword.Filters(include_internal=True),
                          knowledge.catalog.articles, 30, settings.dense_msa_reading, None, settings.dense_about_weight,
                          latent, weight)


def test_an_index_whose_cache_lost_its_terms_gets_them_back_at_the_next_index_run(fresh_kb):
    embedder = fresh_kb.embedder
    cache = fresh_kb.store.root / "embeddings" / f"embeddings-{embedder.fingerprint}.sqlite3"
    with sqlite3.connect(cache) as db:  # as a cache from before the terms: none, and no word that it has them all
        db.execute(f"DELETE FROM {LATENT_TABLE}")
        db.execute(f"DELETE FROM {ARTICLE_LATENT_TABLE}")
        db.execute("DROP TABLE facts")
    articles = list(fresh_kb.catalog.articles.values())
    latent = fresh_kb.latent_terms(embedder)
    assert latent.scores(latent.question("استرداد المبلغ"), articles) == {}  # searches go on without them

    report = fresh_kb.index()
    assert not report.full and report.changed == 0  # nothing re-indexed, nothing re-embedded
    assert set(latent.scores(latent.question("استرداد المبلغ"), articles)) == {a.slug for a in articles}


def test_a_cache_that_has_every_chunk_s_terms_is_not_walked_again(fresh_kb, monkeypatch):
    """``kb index`` checked every article's chunks for missing terms on each run."""
    embedder = fresh_kb.embedder
    cache = EmbeddingCache(fresh_kb.store.root / "embeddings", embedder.fingerprint, embedder.dim)
    try:
        assert cache.latent_complete  # the build filled them all and said so
    finally:
        cache.close()
    walked = []
    monkeypatch.setattr(VectorWork, "fill_latent", lambda self, items: walked.append(len(items)))
    fresh_kb.index()
    assert walked == []
    # A new article gets its terms with its vectors, so the cache stays complete.
    (fresh_kb.settings.articles_dir / "new-refunds.md").write_text(
        "---\ntitle: مهلة استرداد المبلغ\ncategory: الشكاوى والعملاء الغاضبون\n---\nيسترد العميل المبلغ خلال أربعة عشر يوما.\n",
        encoding="utf-8")
    fresh_kb.index()
    assert walked == []
    latent = fresh_kb.latent_terms(embedder)
    assert "new-refunds" in latent.scores(latent.question("استرداد المبلغ"), [fresh_kb.catalog.articles["new-refunds"]])


def test_a_search_reads_an_article_s_terms_packed_without_parsing_it_again(fresh_kb, monkeypatch):
    """Parsing an article into passages cost about 8 ms the first time it was a candidate in a
    process (kb.search.article_terms); the index keeps its terms packed under its text."""
    embedder = fresh_kb.embedder
    articles = list(fresh_kb.catalog.articles.values())
    question = "عميل غاضب يريد استرداد المبلغ"
    parsed = LatentTerms(embedder, fresh_kb.store.root / "embeddings")
    monkeypatch.setattr(article_terms_module, "read_packed", lambda cache, key: None)
    monkeypatch.setattr(latent_module, "read_packed", lambda cache, key: None)
    expected = parsed.scores(parsed.question(question), articles)
    monkeypatch.undo()
    monkeypatch.setattr(latent_module, "article_passages", _no_parsing)
    packed = LatentTerms(embedder, fresh_kb.store.root / "embeddings")
    assert packed.scores(packed.question(question), articles) == pytest.approx(expected)
    # A new text whose chunks are all cached (the front matter changed, not the body) gets its row too.
    monkeypatch.undo()
    article = fresh_kb.catalog.articles["handling-angry-customers"]
    text = article.path.read_text(encoding="utf-8")
    article.path.write_text(text.replace("tags: [", "tags: [غضب, ", 1), encoding="utf-8")
    fresh_kb.index()
    changed = fresh_kb.catalog.articles["handling-angry-customers"]
    assert changed.checksum != article.checksum
    monkeypatch.setattr(latent_module, "article_passages", _no_parsing)
    assert LatentTerms(embedder, fresh_kb.store.root / "embeddings").scores(packed.question(question), [changed]) == \
        pytest.approx({changed.slug: expected[changed.slug]})


def _no_parsing(article):
    raise AssertionError(f"{article.slug} was parsed into passages again")


def test_a_deleted_article_s_terms_leave_memory(fresh_kb):
    embedder = fresh_kb.embedder
    latent = fresh_kb.latent_terms(embedder)
    articles = list(fresh_kb.catalog.articles.values())
    latent.scores(latent.question("عميل غاضب"), articles)
    before = latent.nbytes
    gone = fresh_kb.catalog.articles["handling-angry-customers"]
    gone.path.unlink()
    fresh_kb.delete(gone.slug)
    assert fresh_kb.latent_terms(embedder) is latent
    assert 0 < latent.nbytes < before
    assert latent.nbytes == sum(latent._of(a).nbytes for a in fresh_kb.catalog.articles.values())


def test_a_weight_of_zero_leaves_the_terms_out_of_the_dense_ranking(launch_kb):
    """They are still read for the no-answer cut (answer_latent_weight, tests/test_latent_landmarks.py)."""
    question = "عميل عم يسب عالشات شو بعمل"
    plain = _dense(launch_kb, question)
    zero = _dense(launch_kb, question, launch_kb.latent_terms(launch_kb.embedder), 0.0)
    assert zero.ranking == plain.ranking and plain.query_terms is None
    assert len(zero.query_vectors) == 2 and zero.query_terms is not None  # the terms of the question as typed only


def test_a_negative_weight_is_refused(tmp_path):
    from kb.errors import KbError

    with pytest.raises(KbError, match="dense_latent_weight"):
        make_settings(tmp_path, dense_latent_weight=-0.5)


def test_a_model_without_latent_terms_searches_as_before(session_kb, fresh_dir):
    class PooledOnly:
        """The real model without its sparse head (what the sentence-transformers backend is)."""

        def __init__(self, inner):
            self.name, self.fingerprint, self.dim, self.max_tokens = inner.name, inner.fingerprint, inner.dim, inner.max_tokens
            self.embed_query, self.embed_passages = inner.embed_query, inner.embed_passages

    model = PooledOnly(session_kb.embedder)
    knowledge = KnowledgeBase.from_settings(make_settings(fresh_dir), embedder=model)
    assert latent_terms(model) is None
    latent = knowledge.latent_terms(model)
    assert isinstance(latent, LatentTerms) and not latent.usable
    hits = knowledge.search("كيف أسترد المبلغ")
    assert hits and hits[0].slug == session_kb.search("كيف أسترد المبلغ")[0].slug


@pytest.mark.parametrize(("lengths", "short"), [([5, 6, 40], True), ([5, 40, 60], False), ([], False), ([10, 9, 30], False)])
def test_most_candidates_short_is_their_median_under_the_short_length(lengths, short):
    from kb.search import fusion

    assert fusion.mostly_short(lengths, 10) is short


def test_among_stored_questions_the_dense_side_leaves_the_latent_terms_out(session_kb, tmp_path):
    """GIVEN a collection of stored questions (a few words each, as nsurl_q2q's: its first half
    lost 0.004 nDCG@10 with the terms)
    WHEN a question is searched
    THEN the dense ranking is the plain one; the launch articles' (long) is blended."""
    articles = tmp_path / "articles"
    articles.mkdir()
    stored = ["كيف أسترد ثمن طلبي؟", "متى يصل الطلب؟", "كيف أغير كلمة المرور؟", "هل يمكن إلغاء الطلب؟",
              "كيف أتواصل مع الدعم؟", "ما طرق الدفع المتاحة؟"]
    for i, question in enumerate(stored):
        (articles / f"q{i}.md").write_text(f'---\ntitle: "{question}"\ncategory: "أسئلة"\nlang: ar\n---\n{question}\n',
                                           encoding="utf-8")
    knowledge = KnowledgeBase.from_settings(make_settings(tmp_path), embedder=session_kb.embedder)
    knowledge.build()
    latent = knowledge.latent_terms(knowledge.embedder)
    vectors, catalog = knowledge._read_state().vectors, knowledge.catalog.articles
    filters = keyword.Filters()
    question = "بدي رجع مصاري الطلبية"
    assert latent.scores(latent.question(question), list(catalog.values()))  # the terms are there
    plain = dense_articles(question, vectors, knowledge.embedder, filters, catalog, 10, "max", None, 1.0)
    gated = dense_articles(question, vectors, knowledge.embedder, filters, catalog, 10, "max", None, 1.0,
                           latent, 5.0, short_words=10)
    assert gated.ranking == plain.ranking
    ungated = dense_articles(question, vectors, knowledge.embedder, filters, catalog, 10, "max", None, 1.0,
                             latent, 5.0, short_words=0)
    assert ungated.ranking != plain.ranking  # what the terms would have done


def test_a_collection_of_stored_questions_does_not_read_the_question_s_terms(session_kb, tmp_path, monkeypatch):
    """Its searches would leave the terms out anyway: the pass of the model is not made."""
    articles = tmp_path / "articles"
    articles.mkdir()
    for i, question in enumerate(["كيف أسترد ثمن طلبي؟", "متى يصل الطلب؟", "كيف أغير كلمة المرور؟"]):
        (articles / f"q{i}.md").write_text(f'---\ntitle: "{question}"\ncategory: "أسئلة"\nlang: ar\n---\n{question}\n',
                                           encoding="utf-8")
    stored = KnowledgeBase.from_settings(make_settings(tmp_path), embedder=session_kb.embedder)
    stored.build()
    asked: list[str] = []
    monkeypatch.setattr(LatentTerms, "start_question", lambda self, text: asked.append(text))
    assert stored.search("بدي رجع مصاري الطلبية")
    assert asked == []
    assert session_kb.search("بدي رجع مصاري الطلبية")
    assert asked  # the test articles are articles: their searches read the terms

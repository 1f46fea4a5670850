"""kb.search.vocabulary and kb.search.segments: what is kept per Whoosh segment."""

from __future__ import annotations

import numpy as np
import pytest

from kb.search import keyword
from kb.search import spelling
from kb.search.segments import ArticlePassages
from kb.search.segments import SegmentCaches
from kb.search.vector import VectorIndex
from kb.search.vocabulary import Vocabulary
from kb.search.vocabulary import edits1
from test_keyword import article_file
from test_keyword import keyword_only_kb


def damerau_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (a swap of two letters counts as one edit): the oracle for edits1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("استرداد", "استرداد", 0),
        ("استرداد", "استرادد", 1),  # a swap counts once
        ("استرداد", "استرجاد", 1),
        ("استرداد", "استرد", 2),
        ("استرداد", "است", 3),  # capped at limit + 1
        ("abc", "ab", 1),
        ("", "", 0),
    ],
)
def test_damerau_distance(a, b, distance):
    assert damerau_distance(a, b, limit=2) == distance


@pytest.mark.parametrize("word", ["سياسه", "abc", "استرداد"])
def test_edits1_is_every_string_one_edit_or_swap_away(word):
    alphabet = "".join(sorted(set(word + "xyzب")))
    found = edits1(word, alphabet, keep_first=False)
    assert word not in found
    assert all(damerau_distance(word, other, 1) == 1 for other in found)
    # every deletion, substitution and insertion with these letters, and every swap
    for i in range(len(word)):
        assert word[:i] + word[i + 1:] in found
        assert word[:i] + "x" + word[i + 1:] in found
    assert word + "z" in found and "z" + word in found
    assert word[1] + word[0] + word[2:] in found


def test_edits1_keeps_the_first_letter_unless_two_letters_swap():
    found = edits1("بطاقه", "بطاقهx", keep_first=True)
    assert "xطاقه" not in found and "طاقه" not in found and "xبطاقه" not in found
    assert "طباقه" in found  # a swap of the first two letters
    assert "بطاه" in found and "بطاقهx" in found


@pytest.fixture
def small_kb(tmp_path):
    return keyword_only_kb(tmp_path, {
        "refund.md": article_file("الاسترداد", "## طلب الاسترداد\n\nاسترداد المبلغ خلال سبعة أيام.\n\n## الشحن\n\nالشحن مجاني."),
        "reviews.md": article_file("Reviews", "A good reputation comes from answering every review.", lang="en"),
    })


@pytest.fixture
def searcher(small_kb):
    with small_kb._searching(small_kb._read_state()) as held:
        yield held


def test_vocabulary_finds_index_terms_one_edit_away(searcher):
    reader = searcher.reader()
    vocabulary = Vocabulary()
    assert "reputation" in vocabulary.near(reader, "spell", "reputaton")
    assert "استرداد" in vocabulary.near(reader, "body", "استردا")
    assert vocabulary.near(reader, "body", "كمبيوتر") == set()
    assert spelling.near_terms(reader, "spell", "reputatoin", vocabulary) == ["reputation"]
    assert vocabulary.near(reader, "no-such-field", "x") == set()


def test_caches_forget_segments_that_are_gone(small_kb):
    """After an update merges segments away, what was read from them is dropped."""
    small_kb.search("استرداد", mode="keyword")
    small_kb.search("reputaton", mode="keyword")
    caches: SegmentCaches = small_kb._segments

    def segments() -> set[str]:
        return {key[0] for key in [*caches.vocabulary._fields, *caches.passages._items, *caches.postings._lists]}

    before = segments()
    assert before
    small_kb.build()  # a new generation: new segments
    small_kb.search("استرداد", mode="keyword")
    after = segments()
    assert after and not (before & after)


def test_postings_cache_is_bounded_in_bytes(searcher):
    reader = searcher.reader()
    leaf = reader.leaf_readers()[0][0]
    cache = SegmentCaches().postings
    ids, weights = cache.postings(leaf, "body", "استرداد")
    one = ids.nbytes + weights.nbytes
    assert len(ids) >= 1 and cache.nbytes == one
    cache.max_bytes = one  # room for one list of this size
    cache.postings(leaf, "body", "شحن")
    assert len(cache._lists) == 1 and cache.nbytes <= max(one, cache.nbytes)
    assert ("body", "شحن") == next(iter(cache._lists))[1:]


def test_article_passages_are_the_stored_passages_with_their_terms(searcher):
    cache = ArticlePassages(max_passages=2)
    numbers = list(searcher.document_numbers(slug="refund"))
    stored = [searcher.stored_fields(n).get("passage") for n in numbers]
    expected = [p for p in stored if p is not None]
    assert len(expected) == len(numbers) - 1  # the article's own document has no passage
    found = cache.of(searcher, "refund")
    assert [p.passage["id"] for p in found] == [p["id"] for p in expected]  # document order
    for item, raw in zip(found, expected):
        assert item.terms == tuple(raw["terms"].split()) and sum(item.counts.values()) == len(item.terms)
        assert "terms" not in item.passage and item.passage["text"] == raw["text"]
    assert cache.of(searcher, "refund") == found and len(cache._items) == 1  # kept: one entry
    assert cache.find(searcher, "refund", expected[-1]["id"])["text"] == expected[-1]["text"]
    assert cache.find(searcher, "refund", "no-such-passage") is None
    assert cache.of(searcher, "no-such-article") == []
    assert cache.of(searcher, "reviews")  # another article pushes the first out: bounded in passages
    assert "refund" not in {key[1] for key in cache._items} and cache._sizes <= 2


def test_article_passages_leave_out_documents_deleted_since_they_were_kept(small_kb):
    """GIVEN an article's passages kept from one segment
    WHEN the article is changed (its old documents deleted in that segment, new ones in a new segment)
    THEN a new searcher gets only the new passages, once each, and the old segment's entry is reused."""
    small_kb.search("استرداد", mode="keyword")
    with small_kb._searching(small_kb._read_state()) as searcher:
        before = [p.passage["text"] for p in small_kb._segments.passages.of(searcher, "refund")]
    assert any("سبعة" in t for t in before)
    path = small_kb.articles_dir / "refund.md"
    path.write_text(path.read_text(encoding="utf-8").replace("سبعة أيام", "عشرة أيام"), encoding="utf-8")
    small_kb.upsert(path)
    with small_kb._searching(small_kb._read_state()) as searcher:
        assert any(leaf.has_deletions() for leaf, _ in searcher.reader().leaf_readers())
        texts = [p.passage["text"] for p in small_kb._segments.passages.of(searcher, "refund")]
    assert any("عشرة" in t for t in texts) and not any("سبعة" in t for t in texts)
    assert len(texts) == len(before)


def test_nearest_articles_gives_each_article_once_by_its_best_passage():
    rng = np.random.default_rng(5)
    index = VectorIndex(8, "fp")
    vectors = rng.standard_normal((9, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for i, slug in enumerate(["a", "b", "c"]):
        index.add(slug, [f"{slug}#{j}" for j in range(3)], vectors[3 * i:3 * i + 3])
    query = vectors[4]  # b#1 itself
    found = list(index.nearest_articles(query, 9))
    assert [slug for slug, _, _ in found][0] == "b" and found[0][1] == "b#1"
    assert sorted(slug for slug, _, _ in found) == ["a", "b", "c"]
    exact = {slug: max(float(v @ query) for v in vectors[3 * i:3 * i + 3]) for i, slug in enumerate("abc")}
    for slug, _, score in found:
        assert score == pytest.approx(exact[slug], abs=1e-5)
    assert [s for _, _, s in found] == sorted((s for _, _, s in found), reverse=True)
    index.remove("b")
    assert "b" not in {slug for slug, _, _ in index.nearest_articles(query, 9)}
    index.add("b", ["b#new"], vectors[4:5])
    assert next(iter(index.nearest_articles(query, 9)))[:2] == ("b", "b#new")


def test_warm_up_reads_the_typo_vocabularies_before_the_first_search(small_kb, tmp_path):
    fresh = type(small_kb).from_settings(small_kb.settings, embedder=False)
    assert not fresh._segments.vocabulary._fields
    fresh.warm_up()
    fields = {key[1] for key in fresh._segments.vocabulary._fields}
    assert fields == {"body", "spell"}
    empty = type(small_kb).from_settings(small_kb.settings.with_overrides(index_dir=tmp_path / "none"), embedder=False)
    empty.warm_up()  # no index yet: nothing to do, no error


@pytest.mark.parametrize("filters", [keyword.Filters(), keyword.Filters(lang="en"), keyword.Filters(include_drafts=True, include_internal=True),
                                     keyword.Filters(category="no-such-category")])
def test_filter_masks_match_whoosh_after_updates_and_deletions(small_kb, filters):
    """GIVEN an index changed by an upsert and a delete (a new segment, deleted documents)
    WHEN a new searcher computes which documents a filter allows from the per-segment masks
    THEN it allows exactly what Whoosh's own filter query finds among the live documents."""
    path = small_kb.articles_dir / "refund.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nجملة جديدة.\n", encoding="utf-8")
    small_kb.upsert(path)
    small_kb.delete("reviews")
    with small_kb._searching(small_kb._read_state()) as searcher:
        reader = searcher.reader()
        assert len(reader.leaf_readers()) >= 2 and any(leaf.has_deletions() for leaf, _ in reader.leaf_readers())
        for kind in ("article", "passage"):
            expected = {d for d in searcher.whoosh.docs_for_query(filters.query(kind)) if not reader.is_deleted(d)}
            assert searcher.allowed_docs(filters, kind) == expected
            assert set(np.flatnonzero(searcher.allowed_mask(filters, kind)).tolist()) == expected


def test_typo_candidates_keep_to_the_word_script_and_are_remembered_per_index_state(searcher):
    """An Arabic word's edits use Arabic letters, a Latin word's the others; the candidates of
    a word are kept for the segments they were found in, and forgotten with them."""
    reader = searcher.reader()
    vocabulary = Vocabulary()
    assert vocabulary.near(reader, "body", "استردا") == {"استرداد"}
    assert vocabulary.near(reader, "spell", "reputaton") == {"reputation"}
    assert len(vocabulary._near) == 2
    vocabulary._near[next(iter(vocabulary._near))] = frozenset({"remembered"})
    assert vocabulary.near(reader, "body", "استردا") == {"remembered"}  # the kept answer, not recomputed
    vocabulary.forget_except(set())
    assert not vocabulary._near


def test_searcher_reader_remembers_document_frequencies_and_stays_bounded(searcher, monkeypatch):
    reader = searcher.reader()
    assert reader is searcher.reader()  # one per searcher (one index state)
    whoosh_reader = searcher.whoosh.reader()
    for field, term in [("body", "استرداد"), ("body", "no-such-term"), ("kind", "passage"), ("spell", "reputation")]:
        assert reader.doc_frequency(field, term) == whoosh_reader.doc_frequency(field, term)
    assert reader.doc_frequency("body", "استرداد") >= 1 and reader.doc_frequency("body", "no-such-term") == 0
    assert reader.leaf_readers() == whoosh_reader.leaf_readers()  # everything else is the reader's own
    monkeypatch.setattr(type(reader), "MAX_KEPT", 2)
    for term in ["a", "b", "c"]:
        reader.doc_frequency("body", term)
    assert len(reader._frequencies) <= 2

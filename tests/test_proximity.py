"""kb.search.proximity: window coverage and the re-ordering of the first page (pure functions)."""

from __future__ import annotations

import pytest

from kb import KnowledgeBase
from kb.search.proximity import query_slots
from kb.search.proximity import rerank
from kb.search.proximity import window_coverage

WEIGHTS = {"شحن": 2.0, "دولي": 3.0, "مد": 1.0, "شحنه": 1.6}


def slots(stems=("شحن", "دولي", "مد"), alternatives=None):
    return query_slots(stems, alternatives or {}, WEIGHTS)


def test_all_query_words_within_the_window_cover_everything():
    assert window_coverage(["x", "شحن", "دولي", "y", "مد"], slots(), width=10) == pytest.approx(1.0)


def test_words_far_apart_cover_only_the_best_window():
    terms = ["شحن", *["x"] * 20, "دولي", "مد"]
    assert window_coverage(terms, slots(), width=10) == pytest.approx((3.0 + 1.0) / 6.0)
    assert window_coverage(terms, slots(), width=30) == pytest.approx(1.0)


def test_a_repeated_word_counts_once():
    assert window_coverage(["شحن", "شحن", "شحن"], slots()) == pytest.approx(2.0 / 6.0)


def test_an_alternative_counts_at_its_own_weight_and_never_beyond_its_word():
    with_typo = slots(alternatives={"شحن": ["شحنه"]})
    assert with_typo["شحنه"] == (0, 1.6)
    assert window_coverage(["شحنه", "دولي", "مد"], with_typo) == pytest.approx((1.6 + 3.0 + 1.0) / 6.0)
    assert window_coverage(["شحنه", "شحن", "دولي", "مد"], with_typo) == pytest.approx(1.0)


def test_words_the_index_does_not_have_are_left_out():
    assert query_slots(("شحن", "مجهول"), {}, WEIGHTS) == {"شحن": (0, 2.0)}
    assert window_coverage(["شحن"], query_slots(("شحن", "مجهول"), {}, WEIGHTS)) == pytest.approx(1.0)


def test_no_query_words_no_coverage():
    assert window_coverage(["شحن", "دولي"], {}) == 0.0
    assert window_coverage([], slots()) == 0.0


def test_window_sliding_drops_words_that_fall_out():
    terms = ["شحن", "x", "x", "دولي", "x", "x", "x", "مد"]
    # width 4: {شحن, دولي} at positions 0-3, then {دولي, مد} at 3-7 (5 terms: too wide)
    assert window_coverage(terms, slots(), width=4) == pytest.approx(5.0 / 6.0)
    assert window_coverage(terms, slots(), width=5) == pytest.approx(5.0 / 6.0)
    assert window_coverage(terms, slots(), width=8) == pytest.approx(1.0)


def test_rerank_reorders_the_head_only_and_scales_with_the_best_score():
    ranking = [("a", 10.0), ("b", 9.5), ("c", 9.0), ("d", 1.0)]
    coverage = {"c": 1.0, "d": 1.0}
    # c gains 0.1 x 10 (the best score) x 1.0: a tie with a, broken by key; d is past the head.
    assert rerank(ranking, coverage, weight=0.1, depth=3) == [("a", 10.0), ("c", 10.0), ("b", 9.5), ("d", 1.0)]
    assert [key for key, _ in rerank(ranking, coverage, weight=0.2, depth=3)] == ["c", "a", "b", "d"]
    assert [key for key, _ in rerank(ranking, coverage, weight=0.01, depth=3)] == ["a", "b", "c", "d"]
    assert rerank([], coverage, weight=0.1) == []


def test_proximity_lifts_the_section_that_holds_the_question_together(session_kb: KnowledgeBase, tmp_path):
    """A real search: with proximity off and on, the hits are the same articles, and the
    setting is honoured (0 turns the re-ordering off)."""
    query = "كيف أطلب استرداد المبلغ بعد الإرجاع"
    off = KnowledgeBase.from_settings(session_kb.settings.with_overrides(proximity_weight=0), embedder=session_kb.embedder)
    on = session_kb
    hits_off = [hit.slug for hit in off.search(query, mode="keyword")]
    hits_on = [hit.slug for hit in on.search(query, mode="keyword")]
    assert sorted(hits_off) == sorted(hits_on)
    assert hits_on[0] == "سياسة-الاسترداد"

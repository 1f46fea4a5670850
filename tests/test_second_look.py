"""kb.search.second_look: the first results re-scored by each side's own standing (pure function),
and the setting that turns it off, with the real model on the launch articles."""

from __future__ import annotations

import pytest

from kb.search.second_look import COVERAGE_WEIGHT
from kb.search.second_look import DENSE_WEIGHT
from kb.search.second_look import KEYWORD_WEIGHT
from kb.search.second_look import UNLISTED_Z
from kb.search.second_look import rescore

# Two articles the fusion put nearly level: "a" a hair ahead, though the dense side puts "b"
# well above every other candidate and the keyword side finds "b" as well as "a".
FUSED = [("a", 0.80), ("b", 0.79), ("c", 0.50)]
DENSE = [("b", 0.90), ("a", 0.84), ("c", 0.83), ("d", 0.82)]
KEYWORD = [("a", 10.0), ("b", 10.0)]


def test_a_near_tie_goes_to_the_article_that_stands_out_on_a_side():
    assert [slug for slug, _ in rescore(FUSED, DENSE, KEYWORD, {}, 1.0)] == ["b", "a", "c"]


def test_each_score_is_the_fused_one_plus_the_top_score_times_the_weighted_standing():
    scores = dict(rescore(FUSED, DENSE, KEYWORD, {"a": 0.5}, 1.0))
    values = [0.90, 0.84, 0.83, 0.82]
    mean = sum(values) / 4
    spread = (sum((v - mean) ** 2 for v in values) / 4) ** 0.5
    z_a = (0.84 - mean) / spread
    assert scores["a"] == pytest.approx(0.80 + 0.80 * (DENSE_WEIGHT * z_a + KEYWORD_WEIGHT * 1.0 + COVERAGE_WEIGHT * 0.5))
    z_c = (0.83 - mean) / spread
    assert scores["c"] == pytest.approx(0.50 + 0.80 * DENSE_WEIGHT * z_c)  # not found by the keyword side: k = 0


def test_an_article_the_dense_side_did_not_list_stands_well_under_its_candidates():
    scores = dict(rescore([("x", 1.0), ("b", 0.99)], DENSE, [("x", 5.0), ("b", 5.0)], {}, 1.0))
    assert scores["x"] == pytest.approx(1.0 + DENSE_WEIGHT * UNLISTED_Z + KEYWORD_WEIGHT)
    assert list(scores) == ["b", "x"]


def test_only_the_head_is_re_scored_and_the_rest_keeps_its_order():
    fused = [(f"s{i}", 1.0 - i / 100) for i in range(15)]
    dense = [(f"s{i}", i / 100) for i in range(15)]  # the dense side reverses the order
    out = rescore(fused, dense, [("s0", 1.0)], {}, 1.0, depth=5)
    assert sorted(slug for slug, _ in out[:5]) == [f"s{i}" for i in range(5)]
    assert out[5:] == fused[5:]


@pytest.mark.parametrize("args", [
    (FUSED, DENSE, KEYWORD, {}, 0.0),  # turned off
    (FUSED, [], KEYWORD, {}, 1.0),  # no dense side (keyword mode, no model)
    (FUSED, DENSE, [], {}, 1.0),  # the keyword side found nothing: the fused order is the dense side's
    ([], DENSE, KEYWORD, {}, 1.0),
])
def test_without_both_sides_or_with_weight_zero_nothing_changes(args):
    assert rescore(*args) == list(args[0])


def test_level_dense_scores_count_as_average():
    out = rescore([("a", 1.0), ("b", 0.99)], [("a", 0.8), ("b", 0.8)], [("b", 2.0), ("a", 1.0)], {}, 1.0)
    assert [slug for slug, _ in out] == ["b", "a"]  # z = 0 for both; the keyword side decides


def test_the_setting_turns_it_off_and_the_default_search_uses_it(launch_kb):
    """With the real model: the setting reaches the search (some question of a set is ordered
    differently with it off), and 0 is the order without it."""
    from kb import KnowledgeBase

    off = KnowledgeBase.from_settings(launch_kb.settings.with_overrides(second_look_weight=0), embedder=launch_kb.embedder)
    questions = ["عميل زعلان عشان الطلب اتأخر", "كيف اقيس رضا العملاء", "ازاي ارد على تقييم سلبي على جوجل",
                 "شو بعمل اذا الزبون معصب", "my replies are too long", "وش اسوي اذا العميل يصارخ علي",
                 "كيف نحفز فريق الدعم", "متى احول المكالمة للمشرف"]
    try:
        with_it = [[hit.slug for hit in launch_kb.search_page(q, limit=5).hits] for q in questions]
        without = [[hit.slug for hit in off.search_page(q, limit=5).hits] for q in questions]
    finally:
        off.close()
    assert all(with_it) and all(without)
    assert with_it != without


def test_the_learning_script_finds_the_weights_that_put_the_right_article_first():
    """scripts/learn_second_look.py's fit: on heads whose right article is the best by a known mix
    of the four features, the learnt weights point the same way and put it first again."""
    import sys

    import numpy as np

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import learn_second_look as learn
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rng = np.random.default_rng(7)
    truth = np.array([1.0, 0.3, 0.5, 0.2])
    rows = []
    for n in range(300):
        vectors = rng.normal(size=(10, 4))
        right = int(np.argmax(vectors @ truth + rng.normal(scale=0.05, size=10)))
        rows.append(({"gold": [f"q{n}-{right}"]}, [(f"q{n}-{i}", vectors[i]) for i in range(10)]))
    pairs, labels = learn.training_pairs(rows)
    assert pairs.shape == (300 * 9 * 2, 4) and labels.sum() == 300 * 9
    weights = learn.fit(pairs, labels)
    assert float(weights @ truth) / (np.linalg.norm(weights) * np.linalg.norm(truth)) > 0.98
    first = sum(max(head, key=lambda item: float(item[1] @ weights))[0] in question["gold"] for question, head in rows)
    assert first >= 270

"""A second look at the first results of a hybrid search: each side's own word on each article.

The fused score (``kb.search.fusion``) weighs the two sides by how much of the question the
keyword side matched, min-max scales the dense scores over every candidate, and the
proximity bonus re-orders the first ten (``kb.search.proximity``).  What it loses on the way
is how far each article stands out on each side among the others: a dense score a standard
deviation above the candidates' mean, or the keyword side's best article, counts no more in
the head than a near-tie.  The second look adds, for each of the first ten, the top fused
score times

    DENSE_WEIGHT * z + KEYWORD_WEIGHT * k + COVERAGE_WEIGHT * c

where z is the article's dense score standardized over the dense side's candidates (-2 for
an article the dense side did not list), k its keyword score over the best keyword score (0
when the keyword side did not find it) and c its passage coverage (the share of the
question's words close together, as for the proximity bonus), the three scaled by the
``second_look_weight`` setting (0 turns it off).  The order of the rest is unchanged, and
the answer count (``kb.search.tiers``) reads the new scores.

The weights were learnt, not tuned by hand: a pairwise logistic regression (the first right
article against each other article among a question's first ten) on the first halves of the
help-center sets that may be tuned on (tuning, held-out, Arabizi, short, English:
scripts/data), of dial2msa and of arcd, features the fused score over the best one and the
three above, L2-regularized (C = 1), weights divided by the fused score's
(scripts/learn_second_look.py).  Measured with them (2026-12-07, fourteenth session;
docs/search-quality-history.md), against the same code with the setting at 0, first half / second half:
help-center first places 202 -> 207 and 180 -> 190 (top-3 242 -> 245 and 233 -> 234); nDCG@10
mlqa_ar_dev (never learnt on) 0.835 -> 0.844 and 0.799 -> 0.815, arcd 0.881 -> 0.881 and
0.877 -> 0.880, arcd with typos 0.837 -> 0.836 and 0.836 -> 0.838, dial2msa 0.916 -> 0.915 and
0.913 -> 0.911.  Learnt on the help center alone, the regression gave the dense side five
times as much: the help center gained as much, but dial2msa (whose dialect posts the keyword
side reads better than the model) fell 0.914 -> 0.906; learnt with dial2msa too, arcd fell
0.879 -> 0.876.

``ranking.rank_articles`` leaves it out among stored questions (most of the dense side's
candidates shorter than ``fusion_short_words``), as the latent terms and the short-document
keyword weight are: nsurl_q2q's first half lost 0.005 with it (its documents are questions of a few words, where
the dense model alone is the better judge); with the rule it keeps its nDCG@10.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

import numpy as np

DENSE_WEIGHT = 0.096
KEYWORD_WEIGHT = 0.138
COVERAGE_WEIGHT = 0.219
DEPTH = 10  # the head re-scored, as the proximity bonus's
UNLISTED_Z = -2.0  # an article the dense side did not list: well under its candidates' mean


def standings(slugs: Sequence[str], dense: Sequence[tuple[str, float]], keyword: Sequence[tuple[str, float]],
              coverage: Mapping[str, float]) -> dict[str, tuple[float, float, float]]:
    """(z, k, c) of each of `slugs`, as the module says: the dense score standardized over the
    dense side's candidates, the keyword score over the best one, the passage coverage."""
    dense_scores, keyword_scores = dict(dense), dict(keyword)
    values = np.fromiter(dense_scores.values(), dtype=np.float64)
    mean, spread = (float(values.mean()), float(values.std())) if len(values) else (0.0, 0.0)
    best_keyword = max(keyword_scores.values(), default=0.0)

    def z(slug: str) -> float:
        if slug not in dense_scores:
            return UNLISTED_Z
        return (dense_scores[slug] - mean) / spread if spread > 0 else 0.0

    return {slug: (z(slug), keyword_scores.get(slug, 0.0) / best_keyword if best_keyword > 0 else 0.0,
                   coverage.get(slug, 0.0)) for slug in slugs}


def rescore(ranking: Sequence[tuple[str, float]], dense: Sequence[tuple[str, float]],
            keyword: Sequence[tuple[str, float]], coverage: Mapping[str, float], weight: float,
            depth: int = DEPTH) -> list[tuple[str, float]]:
    """`ranking` (fused, best first) with its first `depth` articles re-scored as the module
    says and re-sorted; `dense` and `keyword` are the two sides' rankings (slug, score),
    `coverage` each article's passage coverage (0 when absent)."""
    ranking = list(ranking)
    if weight <= 0 or not ranking or not dense or not keyword:
        return ranking
    head = ranking[:depth]
    top = max(score for _, score in head)
    found = standings([slug for slug, _ in head], dense, keyword, coverage)
    weights = (DENSE_WEIGHT, KEYWORD_WEIGHT, COVERAGE_WEIGHT)
    rescored = sorted(((slug, score + weight * top * sum(w * x for w, x in zip(weights, found[slug])))
                       for slug, score in head), key=lambda item: (-item[1], item[0]))
    return rescored + ranking[depth:]

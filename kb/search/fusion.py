"""Pure fusion of two ranked lists of (key, score): no I/O, easy to test on fixed rankings.

``convex``: normalize each side with min-max over its candidates, then a weighted sum;
a key missing from one side gets 0 there.  ``rrf``: reciprocal rank fusion, 1/(k + rank).
``adaptive``: the convex fusion with a weight that moves toward the side that is more
confident for this query (see :func:`adaptive_weight`).
"""

from __future__ import annotations

from typing import Sequence

Ranking = Sequence[tuple[str, float]]


def minmax(ranking: Ranking) -> dict[str, float]:
    """Scores scaled to [0, 1] within the list (all 1.0 when every score is equal)."""
    if not ranking:
        return {}
    scores = [s for _, s in ranking]
    low, high = min(scores), max(scores)
    if high - low <= 1e-12:
        return {key: 1.0 for key, _ in ranking}
    return {key: (score - low) / (high - low) for key, score in ranking}


def convex(keyword: Ranking, semantic: Ranking, keyword_weight: float) -> list[tuple[str, float]]:
    """keyword_weight * minmax(keyword) + (1 - keyword_weight) * minmax(semantic), best first."""
    kw = minmax(keyword)
    sem = minmax(semantic)
    fused = {
        key: keyword_weight * kw.get(key, 0.0) + (1.0 - keyword_weight) * sem.get(key, 0.0)
        for key in dict.fromkeys([*kw, *sem])
    }
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def rrf(keyword: Ranking, semantic: Ranking, k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: sum over lists of 1 / (k + rank), ranks starting at 1."""
    fused: dict[str, float] = {}
    for ranking in (keyword, semantic):
        for rank, (key, _) in enumerate(ranking, 1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def adaptive_weight(keyword: Ranking, semantic: Ranking, base_weight: float) -> float:
    """The keyword weight for this query (placeholder: the base weight; tuned below)."""
    return base_weight

"""Term proximity: how much of the question one short stretch of a passage covers.

BM25 counts words wherever they are; the passage that answers a question usually holds
the question's words close together, in one or two sentences.  ``window_coverage`` is
the share of the question's weight (idf) that the best window of ``WINDOW`` consecutive
index terms contains, each query word counted once, a typo correction or a joined form
counting at its lower weight.  The first page of results is then re-ordered by
score + ``proximity_weight`` x coverage (short documents, stored questions, excepted:
there the dense model judges, see kb.search.fusion.adaptive).

Measured on the first halves of ../shared/eval with scripts/tune_fusion.py: hybrid
nDCG@10 on arcd +0.004, arcd with typos +0.005, mlqa_ar_dev and nsurl_q2q unchanged
(windows of 6 to 15 terms and weights 0.05 to 0.15 all did about as well; 10 and 0.1 were
chosen); keyword-only arcd +0.004.  Re-ordering the top 10 did as well as the top 30.
"""

from __future__ import annotations

from typing import Mapping
from typing import Sequence

WINDOW = 10  # index terms (stop words are not index terms)
DEPTH = 10  # results re-ordered


def query_slots(stems: Sequence[str], alternatives: Mapping[str, Sequence[str]],
                weights: Mapping[str, float]) -> dict[str, tuple[int, float]]:
    """Index term -> (which query word it stands for, its weight).

    `weights` holds the weighted idf of every term (0 or missing: the index does not have
    it); `alternatives` the other terms that match a query word (typo corrections, joined
    forms).  Query words the index has in no form are left out."""
    slots: dict[str, tuple[int, float]] = {}
    for slot, stem in enumerate(dict.fromkeys(stems)):
        for term in (stem, *alternatives.get(stem, ())):
            weight = weights.get(term, 0.0)
            if weight > 0 and term not in slots:
                slots[term] = (slot, weight)
    return slots


def slot_totals(slots: Mapping[str, tuple[int, float]]) -> dict[int, float]:
    """What each query word is worth when fully matched: its best term's weight."""
    totals: dict[int, float] = {}
    for slot, weight in slots.values():
        totals[slot] = max(weight, totals.get(slot, 0.0))
    return totals


def window_coverage(terms: Sequence[str], slots: Mapping[str, tuple[int, float]], width: int = WINDOW) -> float:
    """Best share (0-1) of the query's weight found within `width` consecutive terms."""
    totals = slot_totals(slots)
    whole = sum(totals.values())
    if whole <= 0:
        return 0.0
    hits = [(position, term) for position, term in enumerate(terms) if term in slots]
    counts: dict[str, int] = {}
    by_slot: dict[int, dict[str, float]] = {}
    covered = 0.0
    best = 0.0
    first = 0

    def slot_value(slot: int) -> float:
        present = by_slot.get(slot)
        return max(present.values()) if present else 0.0

    def change(term: str, delta: int) -> float:
        slot, weight = slots[term]
        before = slot_value(slot)
        counts[term] = counts.get(term, 0) + delta
        present = by_slot.setdefault(slot, {})
        if counts[term] > 0:
            present[term] = weight
        else:
            present.pop(term, None)
        return slot_value(slot) - before

    for position, term in hits:
        covered += change(term, 1)
        while hits[first][0] <= position - width:
            covered += change(hits[first][1], -1)
            first += 1
        best = max(best, covered)
    return min(1.0, best / whole)


def rerank(ranking: Sequence[tuple[str, float]], coverage: Mapping[str, float], weight: float,
           depth: int = DEPTH) -> list[tuple[str, float]]:
    """The first `depth` results re-ordered by score + weight x coverage x the best score
    (keyword scores have no fixed scale; fused ones are about 1 at the top); the rest unchanged."""
    if not ranking:
        return []
    scale = max(score for _, score in ranking[:depth])
    head = sorted(((key, score + weight * scale * coverage.get(key, 0.0)) for key, score in ranking[:depth]),
                  key=lambda item: (-item[1], item[0]))
    return head + list(ranking[depth:])

"""Pure fusion of two ranked lists of (key, score): no I/O, easy to test on fixed rankings.

``convex``: normalize each side with min-max over its candidates, then a weighted sum;
a key missing from one side gets 0 there.  ``rrf``: reciprocal rank fusion, 1/(k + rank).
``adaptive``: score fusion with a keyword weight that depends on the matched document
(see :func:`adaptive`).  ``coverage``: the same, with the keyword weights scaled by how
much of the question the keyword side matched (see :func:`by_coverage`).
"""

from __future__ import annotations

from typing import Mapping
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


def scale_by_max(ranking: Ranking) -> dict[str, float]:
    """Scores divided by the best one: keeps how far below the best each hit is."""
    if not ranking:
        return {}
    best = max(score for _, score in ranking)
    if best <= 0:
        return {key: 0.0 for key, _ in ranking}
    return {key: score / best for key, score in ranking}


def adaptive(keyword: Ranking, semantic: Ranking, lengths: Mapping[str, int], keyword_weight: float,
             short_keyword_weight: float, short_length: int) -> list[tuple[str, float]]:
    """Score fusion whose keyword weight depends on what matched.

    Keyword scores are divided by the best keyword score (BM25 has no fixed range, and
    min-max would turn the weakest of the candidates into a zero-information 0), dense
    scores are min-max scaled (cosines of e5 bunch in a narrow band).  For a short
    document (a stored question, an FAQ-like entry of fewer than ``short_length`` words)
    word overlap says little about meaning, and the dense model is the better judge:
    such documents get ``short_keyword_weight`` instead of ``keyword_weight``, when most of
    the candidates are short (a collection of stored questions, not of articles).  Measured
    on ../shared/eval (first half of each collection): this keeps score fusion's gains on
    paragraph collections and matches the dense model on FAQ question matching, where
    every fixed fusion lost to it.
    """
    kw = scale_by_max(keyword)
    sem = minmax(semantic)
    fused = {}
    candidates = list(dict.fromkeys([*kw, *sem]))
    if not mostly_short([lengths[key] for key in candidates if key in lengths], short_length):
        # The short-document weight is for collections of stored questions (most candidates
        # short).  Among articles or paragraphs a short one is no stored question: a one-line
        # stub ("نص عن سياسة الشحن الدولي والجمارك.") kept its whole dense standing where the
        # articles around it shared theirs with the keyword side, and came second for "عميل
        # غاضپ".  Measured against the rule for every short document (hybrid nDCG@10):
        # dial2msa (MSA sentences, most of ten words or more) 0.8972 -> 0.9095 (first half
        # 0.9008 -> 0.9111, second 0.8935 -> 0.9080; 21 questions up, 2 down); arcd,
        # mlqa_ar_dev, nsurl_q2q (stored questions: the rule still applies), arcd with typos
        # and every help-center set: the same result for every question.
        short_keyword_weight = keyword_weight
    for key in candidates:
        weight = keyword_weight if lengths.get(key, short_length) >= short_length else short_keyword_weight
        fused[key] = weight * kw.get(key, 0.0) + (1.0 - weight) * sem.get(key, 0.0)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def mostly_short(lengths: Sequence[int], short_length: int) -> bool:
    """Whether most of a search's candidates (their word counts) are shorter than
    ``short_length``: a collection of stored questions, not of articles or paragraphs.
    Without any known length, no."""
    known = sorted(lengths)
    return bool(known) and known[len(known) // 2] < short_length


def matched_weight(share: float, full_weight: float, floor_weight: float, low: float, high: float) -> float:
    """The keyword side's weight for a question of which `share` (0-1) the keyword side matched.

    ``floor_weight`` up to a share of ``low``, ``full_weight`` from ``high`` on, linear in
    between.  A floor above the full weight is lowered to it: matching less never makes the
    keyword side count more.
    """
    floor_weight = min(floor_weight, full_weight)
    if share >= high:
        return full_weight
    if share <= low or high <= low:
        return floor_weight
    return floor_weight + (full_weight - floor_weight) * (share - low) / (high - low)


def by_coverage(keyword: Ranking, semantic: Ranking, lengths: Mapping[str, int], share: float,
                keyword_weight: float, short_keyword_weight: float, short_length: int,
                floor_weight: float, low: float, high: float, dialect: bool = False) -> list[tuple[str, float]]:
    """:func:`adaptive` score fusion, its keyword weights scaled by how much of the question matched.

    `share` is the question's matched share (``kb.search.coverage``): the IDF-weighted
    share of its words the keyword side found, each way of finding one counting less than
    the word itself.  A question whose words the articles use keeps the full weights; a
    dialect or chat-style question, of which only the words every article shares were
    found, lets the dense side lead (``floor_weight``).

    `dialect`: some of the question's words were found only through the dialect lexicon's
    MSA words.  Short documents then get the long documents' weight: the short-document rule
    trusts the dense model with MSA questions against stored MSA questions, but the bundled
    model reads dialect much less well, and the keyword side now reads those words as MSA
    (dial2msa, dialect posts against their MSA translations: +0.04 nDCG@10, no other
    collection moved).  Measured on the first halves of ../shared/eval and the help-center
    questions (scripts/tune_fusion.py).
    """
    long_weight = matched_weight(share, keyword_weight, floor_weight, low, high)
    short_weight = long_weight if dialect else matched_weight(share, short_keyword_weight, floor_weight, low, high)
    return adaptive(keyword, semantic, lengths, long_weight, short_weight, short_length)

"""The "no answer" decision at search time: which articles answer a question, if any.

Apart from ``kb.search.calibration`` (which measures the threshold when the index is built)
because it is the other half of the idea: a pure function of a search's cosines, its keyword
evidence and the cut the calibration left, run on every search and never touching the model
or the index.

**The decision** (:func:`answering`, per search, after the filters): the best passage
cosine among the *allowed* articles is the main signal.  Keyword evidence counts too, but
only from allowed articles: when one allowed article contains most of the question's
weight (IDF over the allowed articles, so words every article uses weigh nothing, and
words the collection lacks weigh most), the dense side may fall up to a margin short;
when no allowed article has any of its words (keyboard noise), it needs a margin more.
The margin is half the calibrated spread between pseudo-questions and probes, so it
scales with the model too.  Without a dense side (keyword mode, or no model) the keyword
evidence decides alone.

The keyword evidence (``kb.search.evidence``) is what the keyword search really ran: each
word as typed or stemmed, its dialect-lexicon reading, its joined-preposition forms, the
editors' synonyms and typo candidates, each at its ``coverage.CREDITS`` credit and never
worth more than its own rarity here.  A typo candidate is a guess: it adds to an article's
share but does not make keyboard noise "known".  An article holding every word of the
question in a sure form (not a guess) answers whatever the cosine, and so do articles the
keyword side found that have no vectors yet (a publish is keyword-first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Iterable

from kb.search.evidence import KeywordEvidence
from kb.search.landmarks import Landmarks

if TYPE_CHECKING:
    from kb.search.calibration import Calibration


# Without a dense side the words are all there is, and a word-for-word match is what keyword
# mode promises: one article must hold this share of the question's weight (the weakest 1 %
# of mlqa and arcd questions hold about 0.2; half the off-topic questions on the launch
# articles hold under 0.15), and the others at least a third of what that one holds.
KEYWORD_ONLY_SHARE = 0.15
KEYWORD_ONLY_RELATIVE = 1 / 3
# With a dense side, an article outside the cosine floor still answers when it holds this
# share of the question's weight, a rare word among it.  (0.35 kept more right articles of
# context-free arcd questions, 0.866 -> 0.869 first half, but lost mlqa_ar_dev 0.834 -> 0.832.)
STRONG_SHARE = 0.5
# How many margins the threshold comes down for an article holding `share` of the question's
# weight (a rare word among it): LOWERING_SCALE * share², at most MAX_LOWERING.  A few words in
# common earn little (0.3 of the weight: a quarter margin), a question found mostly in one
# article earns one margin from a share of 0.63.  Linear (one margin at 1.0) lost arcd with
# one typo a question 8.2 % of its first half to the cut; this curve 6.5 %, and rejects as
# many off-topic help-center questions (95.7 % of the first half, was 94.4 %).
LOWERING_SCALE = 2.5
MAX_LOWERING = 2.0
DEFAULT_SPREAD = 0.06  # a set threshold with no calibration to take the model's scale from
# The landmarks' rule (contrast_raise): a question nearer to an off-topic probe than to any of
# the collection's own questions by c needs CONTRAST_WEIGHT * c more cosine (on the launch
# articles' scale).  First halves: 1.0 rejects 0.825 of the everyday off-topic questions
# (0.65 without), every tuning question keeps its answer; 1.5 cost nsurl_q2q 2 questions.
CONTRAST_WEIGHT = 1.0
CONTRAST_RARE_SHARE = 0.4


@dataclass(frozen=True)
class AnswerCut:
    """What a search needs to count as answered: a dense ``threshold`` (None: no dense cut)
    and the ``margin`` that keyword evidence and the relevance floor use."""

    threshold: float | None
    margin: float
    source: str  # "calibrated", "setting" or "none"
    landmarks: Landmarks | None = None  # the calibration's query vectors (kb.search.landmarks)
    latent_weight: float = 0.0  # of the landmarks' latent contrast (latent_raise), 0: left out


def answer_cut(setting: float, calibration: Calibration | None, fingerprint: str | None,
               landmarks: Landmarks | None = None, latent_weight: float = 0.0) -> AnswerCut:
    """The cut for searches: the ``answer_threshold`` setting when set (>= 0), else the
    index's calibration if it was made with this model, else no dense cut.  `landmarks` (the
    calibration's, None to leave them out) count only with a calibration made with this model;
    `latent_weight` is the ``answer_latent_weight`` setting (see :func:`latent_raise`)."""
    usable = calibration if calibration is not None and calibration.fingerprint == fingerprint else None
    landmarks = landmarks if usable is not None else None
    if setting >= 0:
        return AnswerCut(setting, usable.margin if usable else DEFAULT_SPREAD / 2, "setting", landmarks, latent_weight)
    if usable is not None:
        return AnswerCut(usable.threshold, usable.margin, "calibrated", landmarks, latent_weight)
    return AnswerCut(None, DEFAULT_SPREAD / 2, "none")


def answering(semantic: list[tuple[str, float]] | None, evidence: KeywordEvidence, cut: AnswerCut,
              cross_language: bool = False, unembedded: Iterable[str] = (),
              contrast: float | None = None, latent_contrast: float | None = None) -> set[str] | None:
    """The articles that answer, or None when the question has no answer here.

    `semantic`: (slug, best passage cosine) of the nearest allowed articles, best first, or
    None when the dense side did not run (keyword mode, no model).  `cross_language`: the
    question is in another language than its nearest article.

    With a dense side, the best cosine must reach the threshold, adjusted by ``margin``:
    lowered by :func:`lowering` of the best allowed article's share of the question's weight
    (a rare word among it; the share counts typo candidates, dialect readings, joined forms and
    synonyms, each at its credit, see :func:`keyword_evidence`); raised by one margin when no allowed article has any of the question's words
    (keyboard noise, or a subject the articles never name), by half a margin when typo
    candidates are all it has of them (a misspelt question: "الماراة"; measured on the
    first halves: nsurl_q2q and arcd with typos each keep one more question, off-topic
    rejection on the help center unchanged); lowered by one margin for a
    question in another language than its nearest article (the model puts a translation
    about that much further than a paraphrase).  The articles that answer are then those
    within two margins (the calibrated spread, at least DEFAULT_SPREAD) of the best cosine
    and at most one margin under the adjusted threshold (arcd: a stricter floor cut 13 of
    600 right articles out of the first ten), those holding at least STRONG_SHARE of the
    question's weight with a rare word among it, and those holding a third of what the best
    article holds (as in keyword mode: the right article of an encyclopedia question is
    often found by its words with a cosine far under the best one).  Without a dense side, the question is answered when one article
    holds KEYWORD_ONLY_SHARE of its weight, and the articles holding at least a third as
    much as that one answer.  (First half of scripts/data/helpcenter_questions.jsonl and
    offtopic_questions.jsonl on the launch articles: 96.5 % answered, 95.0 % rejected.)

    `contrast`: how much nearer the question is to the collection's own questions than to
    any off-topic probe (``Landmarks.contrast``; None: no landmarks).  A question nearer to a
    probe needs a closer passage to count as answered, see :func:`contrast_raise`; the
    relevance floor stays where the threshold put it.  Not across languages: an English
    question is nearer to the English probes than to an Arabic collection's own questions
    whatever it asks (the help-center sets did not move either way).  `latent_contrast`: the
    same in the model's latent terms (``Landmarks.latent_contrast``; None: no terms), which
    raises the threshold further, see :func:`latent_raise`.

    `unembedded`: articles the keyword side found that have no vectors yet (a publish is
    searchable by keyword first, its vectors follow, ``kb.backfill``).  The dense side cannot
    see them, so they are judged on their words alone, as in keyword mode, whatever the
    cosines of the others say.
    """
    if semantic is None:
        return _by_words(evidence, evidence.shares) or None
    by_words = _by_words(evidence, unembedded)
    if cut.threshold is None:
        floor = (semantic[0][1] - 2 * cut.margin) if semantic else 0.0
        return {slug for slug, score in semantic if score >= floor} | set(evidence.shares) or None
    by_words |= set(evidence.complete)
    if not semantic:
        return by_words or None
    best = semantic[0][1]
    needed = cut.threshold - cut.margin * lowering(evidence.best_rare)
    if not evidence.known:
        # No word of the question is in an allowed article as typed or in a sure form.  Typo
        # candidates alone are a guess (keyboard noise has one-edit neighbours too): half a
        # margin more; nothing at all (noise, a subject never named here): a whole margin.
        needed = cut.threshold + (cut.margin / 2 if evidence.best > 0 else cut.margin)
    if cross_language:
        needed -= cut.margin
    if best < needed:
        return by_words or None
    if contrast is not None and not cross_language \
            and best < needed + contrast_raise(contrast, cut.margin, evidence.best_rare) \
            + latent_raise(latent_contrast, cut.latent_weight, cut.margin, evidence.best_rare):
        return by_words or None
    # The relative floor is at least DEFAULT_SPREAD wide: a collection whose questions and
    # unrelated ones lie close together (a small calibrated spread: arcd 0.02, mlqa_ar_dev
    # 0.008) would otherwise keep little beyond the first article.
    floor = max(needed - cut.margin, best - 2 * max(cut.margin, DEFAULT_SPREAD / 2))
    keep = {slug for slug, score in semantic if score >= floor}
    keep |= {slug for slug in evidence.rare if evidence.shares[slug] >= STRONG_SHARE}
    return keep | by_words | _by_words(evidence, evidence.shares)


def contrast_raise(contrast: float, margin: float, rare_share: float) -> float:
    """How much closer a passage must come to a question that is `-contrast` nearer to some
    off-topic probe than to any of the collection's own questions (``kb.search.landmarks``).

    In cosine, scaled like the margin: a collection whose own questions and the probes lie
    close together (a small calibrated spread: an encyclopedia, whose subjects are the
    probes' subjects) learns little from which of them a question resembles.  Not when the
    question's rare words are in one article (`rare_share` of its weight, at least
    CONTRAST_RARE_SHARE): it names something the collection has.  (Measured on the first
    halves: without that exception arcd with one typo a question lost 3 questions to the cut
    instead of 1, for one more everyday off-topic question rejected.)"""
    if contrast >= 0 or rare_share >= CONTRAST_RARE_SHARE:
        return 0.0
    return CONTRAST_WEIGHT * -contrast * margin / (DEFAULT_SPREAD / 2)


def latent_raise(contrast: float | None, weight: float, margin: float, rare_share: float) -> float:
    """How much closer a passage must come, on top of :func:`contrast_raise`, to a question
    whose latent terms are `-contrast` nearer to some off-topic probe's than to any of the
    collection's own questions' (``Landmarks.latent_contrast``): `weight` times that, scaled
    like the margin, and, as there, not when the question's rare words are in one article.

    Measured with scripts/eval_helpcenter.py and scripts/eval_retrieval.py (first half /
    second half), against the code without it: at 0.1 (the default) everyday off-topic
    questions turned away 108 -> 112 / 107 -> 108 of 120 (a joke, the visitor's own phone, a
    football match, a passport's papers, a laptop to buy), Arabizi off-topic 17 -> 18 / 17 of
    20; every in-domain first-half question keeps its results, one short second-half query
    ("شحال نتعطل فالايميل") loses them; arcd, dial2msa, mlqa_ar_dev and nsurl_q2q unchanged,
    arcd with typos one second-half question without results.  Larger weights turned away
    a few more (0.15: everyday 113 / 108; 0.3: 113 / 110) and cost the benchmarks' first halves questions
    that no longer had an answer (0.15: two of arcd with typos, by 0.0007 and 0.0001 of
    cosine; 0.3: one of arcd and one of dial2msa too): 0.1 is the largest weight tried that
    lowers no collection's first half."""
    if contrast is None or weight <= 0 or contrast >= 0 or rare_share >= CONTRAST_RARE_SHARE:
        return 0.0
    return weight * -contrast * margin / (DEFAULT_SPREAD / 2)


def lowering(share: float) -> float:
    """Margins the dense threshold comes down for keyword evidence holding `share` (0-1), see LOWERING_SCALE."""
    return min(MAX_LOWERING, LOWERING_SCALE * share * share)


def _by_words(evidence: KeywordEvidence, slugs: Iterable[str]) -> set[str]:
    """Of `slugs`, the articles that answer on keyword evidence alone: the question is answered
    when one allowed article holds KEYWORD_ONLY_SHARE of its weight, and then every article
    holding at least KEYWORD_ONLY_RELATIVE of the best share answers."""
    if evidence.best < KEYWORD_ONLY_SHARE:
        return set()
    least = evidence.best * KEYWORD_ONLY_RELATIVE
    return {slug for slug in slugs if evidence.shares.get(slug, 0.0) >= least}

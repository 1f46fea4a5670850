"""A calibrated "no answer": when nothing in the collection answers a question.

A dense model puts every text somewhere: the nearest passage of any question has *some*
cosine, and for multilingual-e5 even unrelated text lands around 0.8.  So "the nearest
article" is not "an answer".  What separates an answer from none is how close the nearest
passage comes compared with how close *unrelated* questions come to this same collection,
and that depends on the model and on the articles (a collection of short FAQ entries sits
closer to every question than one of long essays).  A constant tied to one model cannot
know that; a measurement at index time can.

**Calibration** (:func:`calibrate`, run by ``kb index`` after a build or whenever the model
or the collection changed): two sets of questions are embedded as queries and matched
against the collection's own passages:

* *off-topic probes* (``data/offtopic_probes.txt``: questions no help center is asked,
  in Modern Standard Arabic, four dialects, English, and keyboard noise): how close
  "unrelated" comes here;
* *pseudo-questions* from the collection itself (article titles, FAQ questions, headings of
  three words or more), each matched against the *other* articles, those that do not carry
  the same text (its own article would be found by its own words; :func:`carriers`): how close a question on this collection's topics comes even
  when its exact article is left out, a pessimistic stand-in for real questions.

The threshold sits between the two (:func:`choose_threshold`): above the bulk of the
off-topic probes, but never above the low end of the pseudo-questions, so that a
collection whose articles *are* general knowledge (an encyclopedia) keeps answering
general-knowledge questions.  Query vectors of probes and pseudo-questions are kept in the
embedding cache, so a re-calibration after an edit costs a few faiss searches.

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

Measured (bundled e5): launch articles threshold 0.838, arcd 0.803, mlqa_ar_dev 0.800, nsurl_q2q
0.841, dial2msa 0.842.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Iterable

import numpy as np

from kb.search.cache import text_hash
from kb.search.dialect import DialectLexicon
from kb.search.dialect import load_builtin
from kb.search.embed import embed_queries
from kb.search.evidence import KeywordEvidence
from kb.search.landmarks import EVERYDAY_PROBES_FILE
from kb.search.landmarks import Landmarks
from kb.search.landmarks import landmark_texts
from kb.search.landmarks import read_questions

if TYPE_CHECKING:
    from kb.content.articles import Article
    from kb.search.cache import EmbeddingCache
    from kb.search.embed import Embedder
    from kb.search.vector import VectorIndex

logger = logging.getLogger(__name__)

PROBES_FILE = Path(__file__).parent / "data" / "offtopic_probes.txt"
# Enough pseudo-questions for stable low quantiles; a 10k-article collection is sampled
# (every n-th, in slug order, so the same collection always gives the same threshold).
MAX_PSEUDO_QUESTIONS = 400
MIN_HEADING_WORDS = 3
_CACHE_KIND = "query\x1f"  # query vectors live in the same cache as passage vectors, keyed apart
_EMBED_BATCH = 32


def load_probes(path: Path = PROBES_FILE) -> list[str]:
    """The off-topic probe questions: one a line, '#' comments and blank lines skipped."""
    return read_questions(path)


def calibration_inputs(lexicon: DialectLexicon, probes: list[str] | None = None,
                       everyday: list[str] | None = None) -> str:
    """A digest of what a calibration reads besides the collection and the model: the probe
    lists (read here unless given) and the dialect lexicon (the probes' readings, the own
    questions' renderings).  A kb upgrade or an edit of the editors' lexicon that changes
    them calibrates again."""
    probes = load_probes() if probes is None else probes
    everyday = read_questions(EVERYDAY_PROBES_FILE) if everyday is None else everyday
    return text_hash("\x1e".join([*probes, *everyday, repr(lexicon.entries)]))


def pseudo_questions(articles: Iterable[Article]) -> list[tuple[str, str]]:
    """(question-like text, slug of its article), in slug order: titles, FAQ questions and
    longer headings.

    A heading such as "مقدمة" or "Summary" asks nothing, so only headings of
    MIN_HEADING_WORDS words or more count."""
    found: list[tuple[str, str]] = []
    for article in sorted(articles, key=lambda a: a.slug):
        texts = [article.title, *(entry.q for entry in article.faq)]
        texts += [h for h in _headings(article.body) if len(h.split()) >= MIN_HEADING_WORDS]
        found += [(text, article.slug) for text in dict.fromkeys(t.strip() for t in texts) if text]
    return found


def sample(found: list[tuple[str, str]], limit: int = MAX_PSEUDO_QUESTIONS) -> list[tuple[str, str]]:
    """Every n-th of `found`, at most `limit`: the same collection always gives the same sample."""
    if len(found) <= limit:
        return found
    step = len(found) / limit
    return [found[int(i * step)] for i in range(limit)]


def carriers(found: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """For each pseudo-question text (of :func:`pseudo_questions`), every article that carries
    it (its title, an FAQ question or a heading): all of them are its own articles, to be left out.

    An encyclopedia split into paragraphs gives each paragraph its page's title: leaving
    out only the pseudo-question's own paragraph, its siblings (same title, same topic)
    answered it, and "a question worded unlike any article" became a near copy (arcd:
    pseudo-questions' median 0.918, the 1 % quantile 0.864, above the probes, so the
    threshold came from the probes, which an encyclopedia answers: 6 % of arcd questions
    with one typo went unanswered).  Leaving out every carrier: median 0.845, 1 % 0.803,
    and 99.6 % of those questions are answered; collections whose titles are their own
    (the launch articles, nsurl_q2q, dial2msa) do not change."""
    own: dict[str, set[str]] = {}
    for text, slug in found:
        own.setdefault(text, set()).add(slug)
    return own


def _headings(markdown: str) -> list[str]:
    return [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]


def cached_query_vectors(embedder: Embedder, cache: EmbeddingCache | None, texts: list[str]) -> np.ndarray:
    """Query vectors for texts, from the embedding cache where it has them (the calibration's
    probes, pseudo-questions and landmarks), embedded in batches where the cache lacks them."""
    keys = [text_hash(_CACHE_KIND + text) for text in texts]
    known = cache.get_many(list(dict.fromkeys(keys))) if cache is not None else {}
    missing = {key: text for key, text in zip(keys, texts) if key not in known}
    fresh = {}
    # In batches: the same vectors as one by one (checked on 128 everyday probes), in half the
    # time on 2 cores (1.3-1.5 s against 2.6 s), and an upgrade's first calibration embeds
    # every rendering of the collection's questions.
    items = list(missing.items())
    for start in range(0, len(items), _EMBED_BATCH):
        chunk = items[start:start + _EMBED_BATCH]
        for (key, _), vector in zip(chunk, embed_queries(embedder, [text for _, text in chunk])):
            fresh[key] = np.asarray(vector, dtype=np.float32)
    if fresh and cache is not None:
        cache.put_many(fresh)
    known.update(fresh)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack([known[key] for key in keys])


def best_cosines(vectors: VectorIndex, query_vectors: np.ndarray,
                 exclude: list[set[str]] | None = None) -> np.ndarray:
    """For each query vector, the cosine of its nearest passage (in none of the articles
    ``exclude[i]``, when given)."""
    scores = np.zeros(len(query_vectors), dtype=np.float32)
    per_article = len(vectors) / max(1, vectors.article_count)
    for i, vector in enumerate(query_vectors):
        left_out = exclude[i] if exclude else set()
        for slug, _, score in vectors.nearest_articles(vector, int(64 + 2 * per_article * len(left_out))):
            if slug not in left_out:
                scores[i] = score
                break
    return scores


# -- calibration (index time) ------------------------------------------------------------------

OFFTOPIC_QUANTILE = 0.80  # the threshold clears this share of the off-topic probes ...
INSIDE_QUANTILE = 0.01  # ... but stays under all but this share of the pseudo-questions


@dataclass(frozen=True)
class Calibration:
    """The "no answer" threshold of one collection and model, and what it was chosen from."""

    threshold: float  # best passage cosine an answer needs (less with keyword evidence)
    spread: float  # median pseudo-question minus median probe cosine: this model's scale here
    fingerprint: str  # the embedding model it holds for
    probes: int = 0
    pseudo_questions: int = 0
    offtopic_quantile: float = 0.0  # the probes' OFFTOPIC_QUANTILE cosine
    inside_quantile: float = 0.0  # the pseudo-questions' INSIDE_QUANTILE cosine
    inputs: str = ""  # calibration_inputs() when it was measured ("": before they were kept)

    @property
    def margin(self) -> float:
        """How far below the threshold an article holding all the question's rare words may be,
        and how far below the best hit an article still counts as answering."""
        return self.spread / 2

    def to_dict(self) -> dict:
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict | None) -> Calibration | None:
        if not data or "threshold" not in data:
            return None
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return None


def choose_threshold(offtopic: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    """(threshold, spread) from the probes' and the pseudo-questions' best cosines.

    The threshold is the OFFTOPIC_QUANTILE of the off-topic probes (most unrelated questions
    fall under it), lowered to the INSIDE_QUANTILE of the pseudo-questions when that is
    lower: a collection that covers the probes' topics (an encyclopedia) must keep
    answering its own kind of question, and the probes cannot tell it what it covers.
    Pseudo-questions are matched leaving their own article out, so they stand for
    questions on this collection's topics worded unlike any article (as customers write).
    Measured on the launch articles with the bundled e5: probes 0.823 median, pseudo-
    questions 0.882; threshold 0.838.
    """
    if not len(offtopic) or not len(inside):
        raise ValueError("calibration needs probes and pseudo-questions")
    threshold = min(float(np.quantile(offtopic, OFFTOPIC_QUANTILE)), float(np.quantile(inside, INSIDE_QUANTILE)))
    spread = max(0.0, float(np.median(inside) - np.median(offtopic)))
    return threshold, spread


def calibrate(embedder: Embedder, cache: EmbeddingCache | None, vectors: VectorIndex,
              articles: Iterable[Article], lexicon: DialectLexicon | None = None) -> tuple[Calibration, Landmarks] | None:
    """Measure the threshold for this collection (see the module docstring), with the query
    vectors it was measured from (:class:`Landmarks`); None when the collection is too small
    to say anything (fewer than two articles with vectors).

    The landmarks hold more than the threshold is measured on (``landmarks.landmark_texts``,
    with `lexicon`, default the built-in one): the MSA reading of each dialect probe (first
    halves: everyday off-topic questions rejected 0.792 -> 0.808, nothing else moved), the
    everyday probes, and the own questions worded in each dialect (measured in
    ``kb.search.landmarks``: everyday off-topic questions rejected 0.808 -> 0.887)."""
    if vectors is None or vectors.article_count < 2:
        return None
    probes = load_probes()
    found = pseudo_questions(articles)
    own = carriers(found)
    held = vectors.slugs()
    # A text every article carries has no "other" article to be matched against.
    questions = [(text, slug) for text, slug in sample(found)
                 if slug in held and len(own[text]) < vectors.article_count]
    if not questions:
        return None
    probe_vectors = cached_query_vectors(embedder, cache, probes)
    inside_vectors = cached_query_vectors(embedder, cache, [t for t, _ in questions])
    offtopic = best_cosines(vectors, probe_vectors)
    inside = best_cosines(vectors, inside_vectors, [own.get(text, {slug}) for text, slug in questions])
    lexicon = lexicon or load_builtin()
    everyday = read_questions(EVERYDAY_PROBES_FILE)
    more_offtopic, more_inside = landmark_texts(probes, [text for text, _ in questions], lexicon, everyday)
    landmarks = Landmarks(np.vstack([probe_vectors, cached_query_vectors(embedder, cache, more_offtopic)]),
                          np.vstack([inside_vectors, cached_query_vectors(embedder, cache, more_inside)]))
    threshold, spread = choose_threshold(offtopic, inside)
    result = Calibration(
        threshold=threshold, spread=spread, fingerprint=embedder.fingerprint, probes=len(probes),
        pseudo_questions=len(questions), offtopic_quantile=float(np.quantile(offtopic, OFFTOPIC_QUANTILE)),
        inside_quantile=float(np.quantile(inside, INSIDE_QUANTILE)), inputs=calibration_inputs(lexicon, probes, everyday),
    )
    logger.info("no-answer threshold %.4f (probes %.4f, pseudo-questions %.4f, spread %.4f)", result.threshold,
                result.offtopic_quantile, result.inside_quantile, result.spread)
    return result, landmarks


# -- the decision (search time) ------------------------------------------------------------------

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


def answer_cut(setting: float, calibration: Calibration | None, fingerprint: str | None,
               landmarks: Landmarks | None = None) -> AnswerCut:
    """The cut for searches: the ``answer_threshold`` setting when set (>= 0), else the
    index's calibration if it was made with this model, else no dense cut.  `landmarks` (the
    calibration's, None to leave them out) count only with a calibration made with this model."""
    usable = calibration if calibration is not None and calibration.fingerprint == fingerprint else None
    landmarks = landmarks if usable is not None else None
    if setting >= 0:
        return AnswerCut(setting, usable.margin if usable else DEFAULT_SPREAD / 2, "setting", landmarks)
    if usable is not None:
        return AnswerCut(usable.threshold, usable.margin, "calibrated", landmarks)
    return AnswerCut(None, DEFAULT_SPREAD / 2, "none")


def answering(semantic: list[tuple[str, float]] | None, evidence: KeywordEvidence, cut: AnswerCut,
              cross_language: bool = False, unembedded: Iterable[str] = (),
              contrast: float | None = None) -> set[str] | None:
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
    whatever it asks (the help-center sets did not move either way).

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
    needed = cut.threshold - cut.margin * lowering(evidence.best_rare())
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
            and best < needed + contrast_raise(contrast, cut.margin, evidence.best_rare()):
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

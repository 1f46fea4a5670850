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
  three words or more), each matched against the *other* articles (its own article would
  be found by its own words): how close a question on this collection's topics comes even
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

Measured (bundled e5): launch articles threshold 0.838, arcd 0.840, dial2msa 0.842.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Iterable

import numpy as np

from kb.search.cache import text_hash

if TYPE_CHECKING:
    from kb.articles import Article
    from kb.search.cache import EmbeddingCache
    from kb.search.embed import Embedder
    from kb.search.keyword import AnalyzedQuery
    from kb.search.keyword import Filters
    from kb.search.keyword import KeywordSearcher
    from kb.search.vector import VectorIndex

logger = logging.getLogger(__name__)

PROBES_FILE = Path(__file__).parent / "data" / "offtopic_probes.txt"
# Enough pseudo-questions for stable low quantiles; a 10k-article collection is sampled
# (every n-th, in slug order, so the same collection always gives the same threshold).
MAX_PSEUDO_QUESTIONS = 400
MIN_HEADING_WORDS = 3
_CACHE_KIND = "query\x1f"  # query vectors live in the same cache as passage vectors, keyed apart
_ARTICLE_FIELDS = ("title", "headings", "body")


def load_probes(path: Path = PROBES_FILE) -> list[str]:
    """The off-topic probe questions: one a line, '#' comments and blank lines skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def pseudo_questions(articles: Iterable[Article], limit: int = MAX_PSEUDO_QUESTIONS) -> list[tuple[str, str]]:
    """(question-like text, slug of its article): titles, FAQ questions and longer headings.

    A heading such as "مقدمة" or "Summary" asks nothing, so only headings of
    MIN_HEADING_WORDS words or more count."""
    found: list[tuple[str, str]] = []
    for article in sorted(articles, key=lambda a: a.slug):
        texts = [article.title, *(entry.q for entry in article.faq)]
        texts += [h for h in _headings(article.body) if len(h.split()) >= MIN_HEADING_WORDS]
        found += [(text, article.slug) for text in dict.fromkeys(t.strip() for t in texts) if text]
    if len(found) > limit:
        step = len(found) / limit
        found = [found[int(i * step)] for i in range(limit)]
    return found


def _headings(markdown: str) -> list[str]:
    return [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]


def embed_queries(embedder: Embedder, cache: EmbeddingCache | None, texts: list[str]) -> np.ndarray:
    """Query vectors for texts, from the embedding cache where it has them."""
    keys = [text_hash(_CACHE_KIND + text) for text in texts]
    known = cache.get_many(list(dict.fromkeys(keys))) if cache is not None else {}
    fresh = {}
    for key, text in zip(keys, texts):
        if key not in known and key not in fresh:
            fresh[key] = np.asarray(embedder.embed_query(text), dtype=np.float32)
    if fresh and cache is not None:
        cache.put_many(fresh)
    known.update(fresh)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack([known[key] for key in keys])


def best_cosines(vectors: VectorIndex, query_vectors: np.ndarray, exclude: list[str | None] | None = None) -> np.ndarray:
    """For each query vector, the cosine of its nearest passage (in another article than
    ``exclude[i]``, when given)."""
    scores = np.zeros(len(query_vectors), dtype=np.float32)
    for i, vector in enumerate(query_vectors):
        left_out = exclude[i] if exclude else None
        for slug, _, score in vectors.nearest_articles(vector, 64):
            if slug != left_out:
                scores[i] = score
                break
    return scores


def idf(articles: int, frequency: int) -> float:
    """BM25's IDF: log(1 + (N - df + 0.5) / (df + 0.5)); a word no article has weighs most."""
    return math.log(1.0 + (max(articles - frequency, 0) + 0.5) / (frequency + 0.5))


@dataclass(frozen=True)
class KeywordEvidence:
    """How much of the question each allowed article contains, by IDF weight over the allowed
    articles: ``shares`` (0-1, articles with any of the words) and ``rare``, those whose
    matched words include at least one rare word's worth of weight (not only words that
    most articles share, like عميل or خدمة in a customer-service help center)."""

    shares: dict[str, float]
    rare: frozenset[str]
    known: bool = True  # some allowed article has one of the question's words

    @property
    def best(self) -> float:
        return max(self.shares.values(), default=0.0)

    def best_rare(self) -> float:
        return max((self.shares[slug] for slug in self.rare), default=0.0)


RARE_SHARE = 0.1  # a word in at most this share of the allowed articles is rare
MAX_EVIDENCE_TERMS = 24  # a pasted essay: its first words say enough


def keyword_evidence(searcher: KeywordSearcher, query: AnalyzedQuery, filters: Filters, postings) -> KeywordEvidence:
    """Each allowed article's share of the question's weight (see :class:`KeywordEvidence`).

    Only articles the filters allow are counted, for the frequencies as well as for the
    matches: a word found only in a draft or an internal article is, for a public search,
    a word the collection does not have.  Only the words themselves (their stems) count:
    crediting typo candidates, even at half weight or only for ``known``, let 0.6-1.2 % more
    off-topic questions through on the launch articles (first half) for 2 of 250 arcd
    questions answered."""
    stems = query.unique_stems[:MAX_EVIDENCE_TERMS]
    allowed = searcher.allowed_mask(filters, "article")
    articles = int(allowed.sum())
    if not stems or not articles:
        return KeywordEvidence({}, frozenset(), known=False)
    reader = searcher.reader()
    matched = np.zeros(len(allowed), dtype=np.float64)
    total = 0.0
    for stem in stems:
        present = _having(reader, postings, stem, allowed)
        weight = idf(articles, int(present.sum()))
        matched[present] += weight
        total += weight
    if total <= 0:
        return KeywordEvidence({}, frozenset(), known=False)
    rare_weight = idf(articles, max(1, math.ceil(RARE_SHARE * articles)))
    docs = np.flatnonzero(matched > 0)
    shares = {searcher.slug_of(int(d)): float(matched[d] / total) for d in docs}
    rare = frozenset(searcher.slug_of(int(d)) for d in docs if matched[d] >= rare_weight - 1e-9)
    return KeywordEvidence(shares, rare, bool(shares))


def _having(reader, postings, term: str, allowed: np.ndarray) -> np.ndarray:
    """Allowed article documents with the term in their title, headings or body."""
    present = np.zeros(len(allowed), dtype=bool)
    for leaf, offset in reader.leaf_readers():
        for field in _ARTICLE_FIELDS:
            ids, _ = postings.postings(leaf, field, term)
            if len(ids):
                present[ids + offset] = True
    return present & allowed


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
              articles: Iterable[Article]) -> Calibration | None:
    """Measure the threshold for this collection (see the module docstring); None when the
    collection is too small to say anything (fewer than two articles with vectors)."""
    if vectors is None or vectors.article_count < 2:
        return None
    probes = load_probes()
    questions = [(text, slug) for text, slug in pseudo_questions(articles) if slug in vectors.slugs()]
    if not questions:
        return None
    offtopic = best_cosines(vectors, embed_queries(embedder, cache, probes))
    inside = best_cosines(vectors, embed_queries(embedder, cache, [t for t, _ in questions]), [s for _, s in questions])
    threshold, spread = choose_threshold(offtopic, inside)
    result = Calibration(
        threshold=threshold, spread=spread, fingerprint=embedder.fingerprint, probes=len(probes),
        pseudo_questions=len(questions), offtopic_quantile=float(np.quantile(offtopic, OFFTOPIC_QUANTILE)),
        inside_quantile=float(np.quantile(inside, INSIDE_QUANTILE)),
    )
    logger.info("no-answer threshold %.4f (probes %.4f, pseudo-questions %.4f, spread %.4f)", result.threshold,
                result.offtopic_quantile, result.inside_quantile, result.spread)
    return result


# -- the decision (search time) ------------------------------------------------------------------

# Without a dense side the words are all there is, and a word-for-word match is what keyword
# mode promises: one article must hold this share of the question's weight (the weakest 1 %
# of mlqa and arcd questions hold about 0.2; half the off-topic questions on the launch
# articles hold under 0.15), and the others at least a third of what that one holds.
KEYWORD_ONLY_SHARE = 0.15
KEYWORD_ONLY_RELATIVE = 1 / 3
# With a dense side, an article outside the cosine floor still answers when it holds this
# share of the question's weight, a rare word among it.
STRONG_SHARE = 0.5
DEFAULT_SPREAD = 0.06  # a set threshold with no calibration to take the model's scale from


@dataclass(frozen=True)
class AnswerCut:
    """What a search needs to count as answered: a dense ``threshold`` (None: no dense cut)
    and the ``margin`` that keyword evidence and the relevance floor use."""

    threshold: float | None
    margin: float
    source: str  # "calibrated", "setting" or "none"


def answer_cut(setting: float, calibration: Calibration | None, fingerprint: str | None) -> AnswerCut:
    """The cut for searches: the ``answer_threshold`` setting when set (>= 0), else the
    index's calibration if it was made with this model, else no dense cut."""
    usable = calibration if calibration is not None and calibration.fingerprint == fingerprint else None
    if setting >= 0:
        return AnswerCut(setting, usable.margin if usable else DEFAULT_SPREAD / 2, "setting")
    if usable is not None:
        return AnswerCut(usable.threshold, usable.margin, "calibrated")
    return AnswerCut(None, DEFAULT_SPREAD / 2, "none")


def answering(semantic: list[tuple[str, float]] | None, evidence: KeywordEvidence, cut: AnswerCut,
              cross_language: bool = False) -> set[str] | None:
    """The articles that answer, or None when the question has no answer here.

    `semantic`: (slug, best passage cosine) of the nearest allowed articles, best first, or
    None when the dense side did not run (keyword mode, no model).  `cross_language`: the
    question is in another language than its nearest article.

    With a dense side, the best cosine must reach the threshold, adjusted by ``margin``:
    lowered in proportion to the best allowed article's share of the question's rare-word
    weight; raised by one margin when no allowed article has any of the question's words
    (keyboard noise, or a subject the articles never name); lowered by one margin for a
    question in another language than its nearest article (the model puts a translation
    about that much further than a paraphrase).  The articles that answer are then those
    within two margins (the calibrated spread) of the best cosine and at most one margin
    under the adjusted threshold (arcd: a stricter floor cut 13 of 600 right articles out of
    the first ten), and those holding at least STRONG_SHARE of the question's weight with a
    rare word among it.  Without a dense side, the question is answered when one article
    holds KEYWORD_ONLY_SHARE of its weight, and the articles holding at least a third as
    much as that one answer.  (First half of scripts/data/helpcenter_questions.jsonl and
    offtopic_questions.jsonl on the launch articles: 96.5 % answered, 95.0 % rejected.)
    """
    if semantic is None:
        if evidence.best < KEYWORD_ONLY_SHARE:
            return None
        return {slug for slug, share in evidence.shares.items() if share >= evidence.best * KEYWORD_ONLY_RELATIVE}
    if cut.threshold is None:
        floor = (semantic[0][1] - 2 * cut.margin) if semantic else 0.0
        return {slug for slug, score in semantic if score >= floor} | set(evidence.shares) or None
    if not semantic:
        return None
    best = semantic[0][1]
    needed = cut.threshold - cut.margin * evidence.best_rare()
    if not evidence.known:
        needed = cut.threshold + cut.margin
    if cross_language:
        needed -= cut.margin
    if best < needed:
        return None
    floor = max(needed - cut.margin, best - 2 * cut.margin)
    keep = {slug for slug, score in semantic if score >= floor}
    keep |= {slug for slug in evidence.rare if evidence.shares[slug] >= STRONG_SHARE}
    return keep

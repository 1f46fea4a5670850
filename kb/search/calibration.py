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

**The decision** at search time is ``kb.search.no_answer``'s.

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
from typing import Mapping

import numpy as np

from kb.search.cache import text_hash
from kb.search.dialect import DialectLexicon
from kb.search.dialect_files import load_builtin
from kb.search.embed import embed_queries
from kb.search.embed import latent_terms
from kb.search.landmarks import EVERYDAY_PROBES_FILE
from kb.search.landmarks import Landmarks
from kb.search.landmarks import landmark_texts
from kb.search.landmarks import read_questions
from kb.search.term_rows import TermRows
from kb.search.no_answer import DEFAULT_SPREAD

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
# What a calibration's landmarks hold, in the inputs' digest: an index calibrated before the
# landmarks had their latent terms is calibrated again once (the terms come from the cache
# after that).
LANDMARKS_KIND = "landmarks: query vectors and latent terms"


def load_probes(path: Path = PROBES_FILE) -> list[str]:
    """The off-topic probe questions: one a line, '#' comments and blank lines skipped."""
    return read_questions(path)


def calibration_inputs(lexicon: DialectLexicon, probes: list[str] | None = None,
                       everyday: list[str] | None = None) -> str:
    """A digest of what a calibration reads besides the collection and the model: the probe
    lists (read here unless given) and the dialect lexicon (the probes' readings, the own
    questions' renderings) and what the landmarks keep (LANDMARKS_KIND).  A kb upgrade or an
    edit of the editors' lexicon that changes them calibrates again."""
    probes = load_probes() if probes is None else probes
    everyday = read_questions(EVERYDAY_PROBES_FILE) if everyday is None else everyday
    return text_hash("\x1e".join([LANDMARKS_KIND, *probes, *everyday, repr(lexicon.entries)]))


def collection_digest(articles: Mapping[str, dict]) -> str:
    """A digest of the indexed articles (the manifest's slug -> entry, each with its text's
    checksum): a calibration measured on other articles is measured again, whoever changed
    them (``kb index``, the watcher, an editor's publish once its vectors are in)."""
    return text_hash("\n".join(f"{slug}\x1f{entry.get('checksum', '')}" for slug, entry in sorted(articles.items())))


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


def cached_latent_terms(embedder: Embedder, cache: EmbeddingCache | None, texts: list[str]) -> TermRows | None:
    """The texts' latent terms packed as rows (``kb.search.latent``), from the embedding cache
    where it has them (keyed by the text, as a passage chunk's are: a text's terms do not
    depend on its use), computed where it lacks them; None when the model has no terms."""
    terms_of = latent_terms(embedder)
    if terms_of is None or not texts:
        return None
    keys = [text_hash(text) for text in texts]
    known = cache.get_latent_many(list(dict.fromkeys(keys))) if cache is not None else {}
    missing = list(dict.fromkeys(key for key in keys if key not in known))
    by_key = dict(zip(keys, texts))
    for start in range(0, len(missing), _EMBED_BATCH):
        chunk = missing[start:start + _EMBED_BATCH]
        fresh = dict(zip(chunk, terms_of([by_key[key] for key in chunk])))
        if cache is not None:
            cache.put_latent_many(fresh)
        known.update(fresh)
    return TermRows.pack([known[key] for key in keys])


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
    collection: str = ""  # collection_digest() of the articles it was measured on ("": before it was kept)

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


def _term_rows(embedder: Embedder, cache: EmbeddingCache | None, offtopic: list[str],
               inside: list[str]) -> tuple[TermRows | None, TermRows | None]:
    """Both sides' latent terms (``Landmarks.latent_contrast``), or neither."""
    offtopic_terms = cached_latent_terms(embedder, cache, offtopic)
    inside_terms = cached_latent_terms(embedder, cache, inside) if offtopic_terms is not None else None
    return (offtopic_terms, inside_terms) if inside_terms is not None else (None, None)


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
    to say anything (no article with vectors, or no title to stand for a question).

    The landmarks hold more than the threshold is measured on (``landmarks.landmark_texts``,
    with `lexicon`, default the built-in one): the MSA reading of each dialect probe (first
    halves: everyday off-topic questions rejected 0.792 -> 0.808, nothing else moved), the
    everyday probes, and the own questions worded in each dialect (measured in
    ``kb.search.landmarks``: everyday off-topic questions rejected 0.808 -> 0.887)."""
    if vectors is None or vectors.article_count < 1:
        return None
    probes = load_probes()
    found = pseudo_questions(articles)
    own = carriers(found)
    held = vectors.slugs()
    single = vectors.article_count == 1
    # A text every article carries has no "other" article to be matched against; with one
    # article, no pseudo-question has one (see below).
    questions = [(text, slug) for text, slug in sample(found)
                 if slug in held and (single or len(own[text]) < vectors.article_count)]
    if not questions:
        return None
    probe_vectors = cached_query_vectors(embedder, cache, probes)
    inside_vectors = cached_query_vectors(embedder, cache, [t for t, _ in questions])
    offtopic = best_cosines(vectors, probe_vectors)
    if single:
        # A new help center's first article: its own questions find it by its own words, so
        # they say nothing of questions worded otherwise, and no other article can stand in.
        # The probes alone set the threshold (their OFFTOPIC_QUANTILE) and the spread is
        # the default one.  Without this it answered everything, keyboard noise included.
        # With it, the angry-customer article alone: 30 of the 31 questions of the three
        # help-center sets it answers are answered, 231 of 240 everyday and 322 of 323
        # encyclopedia-style off-topic questions get no results.
        threshold = float(np.quantile(offtopic, OFFTOPIC_QUANTILE))
        inside = best_cosines(vectors, inside_vectors)
        spread = DEFAULT_SPREAD
    else:
        inside = best_cosines(vectors, inside_vectors, [own.get(text, {slug}) for text, slug in questions])
        threshold, spread = choose_threshold(offtopic, inside)
    lexicon = lexicon or load_builtin()
    everyday = read_questions(EVERYDAY_PROBES_FILE)
    more_offtopic, more_inside = landmark_texts(probes, [text for text, _ in questions], lexicon, everyday)
    offtopic_texts, inside_texts = [*probes, *more_offtopic], [*(text for text, _ in questions), *more_inside]
    landmarks = Landmarks(np.vstack([probe_vectors, cached_query_vectors(embedder, cache, more_offtopic)]),
                          np.vstack([inside_vectors, cached_query_vectors(embedder, cache, more_inside)]),
                          *_term_rows(embedder, cache, offtopic_texts, inside_texts))
    result = Calibration(
        threshold=threshold, spread=spread, fingerprint=embedder.fingerprint, probes=len(probes),
        pseudo_questions=len(questions), offtopic_quantile=float(np.quantile(offtopic, OFFTOPIC_QUANTILE)),
        inside_quantile=float(np.quantile(inside, INSIDE_QUANTILE)), inputs=calibration_inputs(lexicon, probes, everyday),
    )
    logger.info("no-answer threshold %.4f (probes %.4f, pseudo-questions %.4f, spread %.4f)", result.threshold,
                result.offtopic_quantile, result.inside_quantile, result.spread)
    return result, landmarks

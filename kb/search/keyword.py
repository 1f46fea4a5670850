"""The keyword side: queries on the Whoosh index of articles and passages, built safely.

Whoosh 2.7.4 is frozen, so it stays behind this module and keyword_index.  Known hazards handled here:
- no QueryParser: customer text is analyzed and turned into Term/Phrase objects directly,
  so no input can raise a query-syntax error, and parsing cost is linear in length;
- ``optimize=False`` on every search: the default block-max path can loop forever on some
  OR queries (whoosh-community/whoosh#446, #461);
- writers are only opened by ``KnowledgeBase`` while it holds the cross-process lock;
- every searcher copied the mapped segment's files into memory: ``kb.search.whoosh_fixes``.

The index's schema and documents are ``kb.search.keyword_index``; the searcher and what it
remembers about one index state are ``kb.search.keyword_searcher``; guesses for words the
index does not know (typos, joined prepositions, "did you mean") are ``kb.search.spelling``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whoosh import scoring
from whoosh.analysis import Token
from whoosh.analysis import Tokenizer
from whoosh.query import And
from whoosh.query import Or
from whoosh.query import Phrase
from whoosh.query import Query
from whoosh.query import Term

from kb.content.articles import Article
from kb.search import whoosh_fixes
from kb.search.bm25 import PostingsCache
from kb.search.bm25 import bm25f_scores
from kb.search.bm25 import top_documents
from kb.search import proximity
from kb.search.dialect import DialectLexicon
from kb.search.dialect import map_words
from kb.search.dialect_files import load_builtin as load_dialect_lexicon
from kb.search.segments import ArticlePassages
from kb.search.synonyms import SynonymTable
from kb.text import CONTRACTION_PIECES
from kb.text import is_arabic
from kb.text import is_stopword
from kb.text import stem
from kb.text import tokenize

if TYPE_CHECKING:
    from kb.search.keyword_searcher import KeywordSearcher

logger = logging.getLogger(__name__)
whoosh_fixes.apply()

# 6: reference lists, link lists and tables of contents are no longer passages (kb.search.passages).
# 7: articles with a summary get an about vector (title, summary, tags), kb.search.passages.about_text.
# 8: adverbs of time (اليوم، غدا، أمس، البارحة، حاليا) are stop words (kb.text).
# 9: question words with a joined letter (بماذا، ولماذا، لمن، مما ...) are stop words (kb.text).
# 10: the headings field (headings, FAQ questions, tags) keeps positions, one item a line apart.
ANALYZER_VERSION = 10

# Field weights for BM25F (query-time boosts): title, headings and FAQ questions weigh
# more than body text.  Chosen on the first half of ../shared/eval queries.
# Three fields, not one per front-matter part: Whoosh's cost grows with the number of
# (field, word) pairs in the OR, so headings, FAQ questions and tags share one field
# ("what the article says it is about") and FAQ answers go with the body text.
ARTICLE_FIELDS = {"title": 1.0, "headings": 1.5, "body": 1.0}
PASSAGE_FIELDS = {"p_title": 0.5, "p_heading": 1.5, "p_body": 1.0}
PHRASE_BOOST = 1.5
# The fields a phrase of the question's words earns a bonus in, times PHRASE_BOOST (a synonym's
# phrase: SYNONYM_BOOST * 2 in each).  Headings, FAQ questions and tags say what the article is
# about, as the title does: a search-box query that names a tag ("رضا العملاء") opened with an
# article using the words in its body before they counted (help-center sets: top-1 +1 on the
# tuning set and on the short set, top-3 -1 / +1; no benchmark question moved).
PHRASE_FIELDS = {"title": 2.0, "body": 1.0, "headings": 2.0}
FUZZY_BOOST = 0.8
SYNONYM_BOOST = 0.8
# A known word also matches its clitic-prefixed form ("حمل" -> "بحمل"), weakly: the same
# letters are often another word ("طاقه" energy, "بطاقه" card).  Measured on the first
# halves of ../shared/eval: 0.2 helps FAQ matching (nsurl_q2q +0.003), 0.4 costs arcd.
CLITIC_BOOST = 0.2
# Query words found in more than this share of the articles are left out of the query
# (unless nothing else is left): see prune_common_terms.
COMMON_TERM_SHARE = 0.5
MAX_QUERY_TERMS = 16
# A whole pasted message never occurs as a phrase; checking costs Whoosh a walk over the
# documents that hold all its words.
MAX_PHRASE_TERMS = 6
PHRASE_RARE_DOCS = 50
PHRASE_RARE_SHARE = 0.01
PASSAGE_AVG_WORDS = 80


# Whoosh pickles the analyzer into every index's table of contents by its module path, so
# this class must stay importable as kb.search.keyword.KbTokenizer: an index written by an
# earlier kb is opened (and then rebuilt if ANALYZER_VERSION moved) only if it is.
class KbTokenizer(Tokenizer):
    """normalize_arabic -> lowercase -> split words -> drop stop words -> light stem.

    The same pipeline (kb.text) runs at query time; positions count the dropped stop
    words so phrases keep their gaps.  ``stemming=False`` gives the surface vocabulary
    used for "did you mean"; ``line_gap`` puts that many positions between lines (the
    headings field: one heading, FAQ question or tag a line, and no phrase across two).
    """

    # Class default: an analyzer pickled by an earlier kb has no such attribute.
    line_gap = 0

    def __init__(self, stemming: bool = True, line_gap: int = 0):
        self.stemming = stemming
        self.line_gap = line_gap

    def __eq__(self, other) -> bool:
        return isinstance(other, KbTokenizer) and other.stemming == self.stemming and other.line_gap == self.line_gap

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for word in self._words_and_gaps(value):
            if word is None:
                pos += self.line_gap
                continue
            if is_stopword(word):
                pos += 1
                continue
            token.text = stem(word) if self.stemming else word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
            pos += 1
            yield token

    def _words_and_gaps(self, value: str):
        """The words of `value`; with a line gap, None between lines, so that a phrase never
        runs from one heading, FAQ question or tag into the next."""
        if not self.line_gap:
            yield from _words(value)
            return
        for number, line in enumerate(value.split("\n")):
            if number:
                yield None
            yield from _words(line)


def _words(value: str) -> list[str]:
    return tokenize(value)


@dataclass(frozen=True)
class Filters:
    """Who may see what, and what the searcher asked to narrow to."""

    category: str | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None
    include_drafts: bool = False
    include_internal: bool = False

    def terms(self, kind: str) -> tuple[tuple[str, str], ...]:
        """The (field, value) pairs a document of this kind must all have."""
        parts = [("kind", kind)]
        if not self.include_drafts:
            parts.append(("status", "published"))
        if not self.include_internal:
            parts.append(("audience", "public"))
        if self.lang:
            parts.append(("lang", self.lang))
        if self.category:
            parts.append(("category", self.category))
        parts.extend(("tag", tag) for tag in self.tags)
        return tuple(parts)

    def query(self, kind: str) -> Query:
        return And([Term(field_name, value) for field_name, value in self.terms(kind)])

    def allows(self, article: Article) -> bool:
        """The same rule as :meth:`query`, for in-memory checks (semantic side)."""
        return (
            (self.include_drafts or article.status == "published")
            and (self.include_internal or article.audience == "public")
            and (not self.lang or article.lang == self.lang)
            and (not self.category or article.category_slug == self.category)
            and all(tag in article.tags for tag in self.tags)
        )


@dataclass(frozen=True)
class AnalyzedQuery:
    """A customer's question, analyzed once and reused by every step of a search."""

    words: tuple[str, ...]  # normalized surface words (dialect forms as their MSA words), stop words removed
    stems: tuple[str, ...]  # their stems, in order (duplicates kept for phrases)
    # Stems the dialect lexicon gave: known words, never typo-expanded.
    from_lexicon: frozenset[str] = frozenset()
    # Stem -> weaker alternative stems the dialect lexicon gave ("جوال" -> "هاتف").
    alternatives: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (dialect form, its MSA words or "" for no weight), in the order found.
    dialect: tuple[tuple[str, str], ...] = ()

    @property
    def unique_stems(self) -> list[str]:
        return list(dict.fromkeys(self.stems))


def analyze_query(text: str, max_chars: int, lexicon: DialectLexicon | None = None) -> AnalyzedQuery:
    """Cap the length (parsing cost grows with it), then run the index-time pipeline, with
    dialect forms replaced by their MSA words (``kb.search.dialect``; the built-in lexicon
    when none is given): normalize -> split words (an English contraction's pieces left out,
    ``kb.text.CONTRACTION_PIECES``) -> dialect lexicon -> drop stop words -> stem."""
    words = join_detached_articles([word for word in tokenize(text[:max_chars]) if word not in CONTRACTION_PIECES])
    mapped = map_words(words, load_dialect_lexicon() if lexicon is None else lexicon)
    return AnalyzedQuery(mapped.words, mapped.stems, mapped.from_lexicon,
                         tuple((term, others) for term, others in mapped.alternatives.items()), mapped.mapped)


def join_detached_articles(words: list[str]) -> list[str]:
    """The article typed apart from its word ("ال عميل", a phone keyboard's space) joined back:
    Arabic has no word "ال", and alone it matched whatever the light stemmer cut down to it
    (الآلية); a trailing one is dropped."""
    joined: list[str] = []
    for i, word in enumerate(words):
        if word == "ال":
            continue
        if i and words[i - 1] == "ال" and is_arabic(word) and not word.startswith("ال"):
            word = "ال" + word
        joined.append(word)
    return joined


@dataclass(frozen=True)
class ArticleQuery:
    """A question as weighted (field, stem) clauses, scored term at a time, plus phrase bonuses."""

    terms: tuple[tuple[str, str, float], ...]
    phrases: tuple[Phrase, ...] = ()
    phrase_stems: tuple[str, ...] = ()


def article_query(query: AnalyzedQuery, expansions: dict[str, list[str]], synonyms: SynonymTable,
                  terms: list[str], clitics: dict[str, list[str]] | None = None) -> ArticleQuery | None:
    """OR of the query's stems over the weighted article fields, plus phrase, typo, clitic and synonym bonuses.

    `terms` are the stems worth matching (see prune_common_terms); phrases use them all.
    """
    clitics = clitics or {}
    clauses: list[tuple[str, str, float]] = []
    phrases: list[Phrase] = []

    def add(term: str, factor: float) -> None:
        clauses.extend((field, term, weight * factor) for field, weight in ARTICLE_FIELDS.items())

    for term in terms:
        add(term, 1.0)
        for near in expansions.get(term, ()):
            add(near, FUZZY_BOOST)
        for joined in clitics.get(term, ()):
            add(joined, CLITIC_BOOST)
    for alternative, weight in synonyms.weighted_expansions(query.stems):
        if not weight:
            continue
        if len(alternative) == 1:
            add(alternative[0], SYNONYM_BOOST * weight)
        else:
            phrases.extend(Phrase(f, list(alternative), boost=SYNONYM_BOOST * 2 * weight) for f in PHRASE_FIELDS)
    if 2 <= len(query.stems) <= MAX_PHRASE_TERMS:
        phrases.extend(Phrase(f, list(query.stems), slop=2, boost=PHRASE_BOOST * boost)
                       for f, boost in PHRASE_FIELDS.items())
    if not clauses and not phrases:
        return None
    return ArticleQuery(tuple(clauses), tuple(phrases), tuple(dict.fromkeys(query.stems)))


def passage_terms(query: AnalyzedQuery, expansions: dict[str, list[str]], synonyms: SynonymTable,
                  terms: list[str], clitics: dict[str, list[str]] | None = None) -> dict[str, float]:
    """The stems that pick the passage that answers, with their weights."""
    weights = {term: 1.0 for term in terms}
    for term in query.unique_stems:
        for near in expansions.get(term, ()):
            weights.setdefault(near, FUZZY_BOOST)
        for joined in (clitics or {}).get(term, ()):
            weights.setdefault(joined, CLITIC_BOOST)
    for alternative, weight in synonyms.weighted_expansions(query.stems):
        for term in alternative if weight else ():
            weights.setdefault(term, SYNONYM_BOOST * weight)
    return weights


# K1 below the textbook 1.2: customers' questions repeat few words, and rewarding
# coverage of more distinct query words over repeats measured better (arcd first half:
# nDCG@10 0.834 at K1=1.2, 0.842 at K1=0.7).
BM25_K1 = 0.7
BM25_B = 0.75


def scoring_model() -> scoring.BM25F:
    return scoring.BM25F(B=BM25_B, K1=BM25_K1)


def prune_common_terms(reader, stems: list[str], max_share: float = COMMON_TERM_SHARE) -> list[str]:
    """Drop stems found in most articles, as long as rarer ones remain.

    A word in nearly every article (خدمة العملاء in a customer-service help center) hardly
    changes BM25's ranking, but Whoosh walks every document that contains it: dropping it
    keeps queries fast on large collections.
    """
    articles = max(1, reader.doc_frequency("kind", "article"))
    frequency = {t: reader.doc_frequency("body", t) for t in stems}
    rare = [t for t in stems if frequency[t] <= max_share * articles] or list(stems)
    # A pasted essay: keep the most telling (rarest) words only.
    return sorted(rare, key=lambda t: frequency[t])[:MAX_QUERY_TERMS] if len(rare) > MAX_QUERY_TERMS else rare


def search_articles(searcher: KeywordSearcher, query: ArticleQuery, filters: Filters, limit: int,
                    postings: PostingsCache) -> list[tuple[str, float]]:
    """(slug, score) of the best articles, best first (BM25F term at a time, see kb.search.bm25)."""
    allowed = searcher.allowed_mask(filters, "article")
    if not allowed.any():
        return []
    scores = bm25f_scores(searcher, list(query.terms), postings, BM25_K1, BM25_B)
    phrases = _positional(searcher.schema, query.phrases)
    if phrases and _phrases_are_cheap(searcher.reader(), query.phrase_stems):
        phrase_filter = searcher.allowed_docs(filters, "article")
        for hit in searcher.search(Or(phrases), limit=limit, filter=phrase_filter, optimize=False, terms=False):
            scores[hit.docnum] += hit.score
    return [(searcher.slug_of(docnum), score) for docnum, score in top_documents(scores, allowed, limit)]


def _positional(schema, phrases: tuple[Phrase, ...]) -> list[Phrase]:
    """The phrases whose field keeps positions in this index: an index written before
    ANALYZER_VERSION 10 has none for headings, and answers until it is rebuilt."""
    return [phrase for phrase in phrases
            if phrase.fieldname in schema and schema[phrase.fieldname].format.supports("positions")]


def _phrases_are_cheap(reader, stems: tuple[str, ...]) -> bool:
    """Whoosh checks a phrase in every document holding all its words: worth it only when
    one of them is rare (then those documents are few, and a phrase match means a lot)."""
    if not stems:
        return True
    articles = max(1, reader.doc_frequency("kind", "article"))
    return min(reader.doc_frequency("body", t) for t in stems) <= max(PHRASE_RARE_DOCS, PHRASE_RARE_SHARE * articles)


@dataclass(frozen=True)
class PassageMatches:
    """For each article looked at: the passage that answers best, and how close together
    the question's words are in it (``kb.search.proximity``)."""

    passages: dict[str, dict]
    coverage: dict[str, float]


def match_passages(searcher: KeywordSearcher, slugs: list[str], terms: dict[str, float], passages: ArticlePassages,
                   stems: tuple[str, ...] = (), alternatives: dict[str, list[str]] | None = None) -> PassageMatches:
    """The best-matching passage of each article, scored with BM25 in Python, and the best
    window coverage of the query's words (`stems`, with their `alternatives`) over its passages.

    Only the few articles on the page need a passage, so reading their stored passages
    and scoring them here costs the same at 1k or 100k articles, where a Whoosh query
    would walk every passage in the index that shares a word with the question.
    `terms` maps stems to weights (typo and synonym alternatives weigh less).
    """
    reader = searcher.reader()
    total = max(1, reader.doc_frequency("kind", "passage"))
    idf = {}
    known = {}
    for term, weight in terms.items():
        df = reader.doc_frequency("p_body", term)
        idf[term] = weight * math.log(1 + (total - df + 0.5) / (df + 0.5))
        # Words the passages do not have at all (but in headings) weigh nothing for proximity.
        known[term] = idf[term] if df or reader.doc_frequency("p_heading", term) else 0.0
    slots = proximity.query_slots(stems, alternatives or {}, known)
    best: dict[str, dict] = {}
    coverage: dict[str, float] = {}
    wanted = set(idf)
    for slug in slugs:
        top_score = 0.0
        top_coverage = 0.0
        for stored in passages.of(searcher, slug):
            passage, words, counts = stored.passage, stored.terms, stored.counts
            # Most passages of an article on the page hold none of the question's words:
            # a set check in C skips them (their score is 0 and they change nothing).
            if counts.keys().isdisjoint(wanted):
                continue
            # The same floats as the formula written out per term, length part computed once.
            length_part = BM25_K1 * (1 - BM25_B + BM25_B * len(words) / PASSAGE_AVG_WORDS)
            score = 0.0
            for term, term_idf in idf.items():
                tf = counts.get(term, 0)
                if tf:
                    score += term_idf * tf * (BM25_K1 + 1) / (tf + length_part)
            if score > top_score:
                top_score = score
                best[slug] = passage
            if slots and score > 0:
                top_coverage = max(top_coverage, proximity.window_coverage(words, slots))
        coverage[slug] = top_coverage
    return PassageMatches(best, coverage)

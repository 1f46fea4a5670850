"""Keyword evidence for the "no answer" cut: how much of the question each allowed article holds.

The cut (``kb.search.no_answer.answering``) weighs the dense side's best cosine against a
calibrated threshold, lowered when one allowed article holds much of the question's words
and raised when none holds any.  This module measures that: each word's IDF over the
articles the reader may see (so words every article uses weigh nothing, and words the
collection lacks weigh most), found in the forms the keyword search really ran
(:func:`evidence_words`: as typed or stemmed, the dialect lexicon's reading, joined
prepositions, the editors' synonyms and typo candidates, each at its ``coverage.CREDITS``
credit and never worth more than its own rarity here).  A typo candidate is a guess: it
adds to an article's share but does not make keyboard noise "known".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from typing import TYPE_CHECKING
from typing import Callable
from typing import Mapping

import numpy as np

from kb.search.coverage import CREDITS
from kb.search.coverage import idf
from kb.search.leaves import segment_leaves
from kb.search.synonyms import names_entry

if TYPE_CHECKING:
    from kb.search.coverage import MatchProfile
    from kb.search.keyword import AnalyzedQuery
    from kb.search.keyword import Filters
    from kb.search.keyword_searcher import KeywordSearcher
    from kb.search.synonyms import SynonymTable


@dataclass(frozen=True)
class KeywordEvidence:
    """How much of the question each allowed article contains, by IDF weight over the allowed
    articles: ``shares`` (0-1, articles with any of the words) and ``rare``, those whose
    matched words include at least one rare word's worth of weight (not only words that
    most articles share, like عميل or خدمة in a customer-service help center)."""

    shares: dict[str, float]
    rare: frozenset[str]
    # Some allowed article has one of the question's words in a sure form: as typed, its
    # stem, its dialect reading, a joined form or a synonym.  A typo candidate alone is not
    # enough: keyboard noise has one-edit neighbours too ("سشيب لاتنم").
    known: bool = True
    # Articles that have every one of the question's words in a sure form (see ``known``).
    complete: frozenset[str] = frozenset()

    # Kept once computed: the cut asks for them up to five times a search, each a pass over
    # every article with a word of the question.
    @cached_property
    def best(self) -> float:
        return max(self.shares.values(), default=0.0)

    @cached_property
    def best_rare(self) -> float:
        return max((self.shares[slug] for slug in self.rare), default=0.0)


_ARTICLE_FIELDS = ("title", "headings", "body")
RARE_SHARE = 0.1  # a word in at most this share of the allowed articles is rare
MAX_EVIDENCE_TERMS = 24  # a pasted essay: its first words say enough
# A number of one or two digits says nothing about what a question asks: a quantity, a list
# item, a star rating.  As evidence it answered "recipe 1" and "alert(1)" with twenty
# articles, because "1" occurs in three launch articles and the other words in none.  Longer
# numbers stay: an error code, a year or an order number an article may name.  Measured: the
# help-center sets unchanged; dial2msa first half 0.9000 -> 0.9008 nDCG@10; arcd, arcd with
# typos, mlqa_ar_dev and nsurl_q2q unchanged.
MAX_BARE_NUMBER = 2


def weighed_stems(query: AnalyzedQuery) -> list[str]:
    """The question's distinct stems that count as evidence (see MAX_BARE_NUMBER), at most MAX_EVIDENCE_TERMS."""
    stems = [stem for stem in query.unique_stems if not (stem.isdigit() and len(stem) <= MAX_BARE_NUMBER)]
    return stems[:MAX_EVIDENCE_TERMS]


@dataclass(frozen=True)
class EvidenceWord:
    """One distinct word of the question and the forms the keyword search looked for it in:
    each form is the index stems an article must all have (one, or a synonym phrase's words)
    and the credit a match that way earns (``coverage.CREDITS``: the word itself counts most,
    a typo candidate or a synonym less)."""

    stem: str
    forms: tuple[tuple[tuple[str, ...], float, bool], ...]  # (stems, credit, a guess: a typo candidate)


def evidence_words(query: AnalyzedQuery, profile: MatchProfile | None, expansions: Mapping[str, list[str]],
                   clitics: Mapping[str, list[str]], synonyms: SynonymTable | None) -> tuple[EvidenceWord, ...]:
    """The question's words with everything the keyword search ran for them, from what
    ``kb.search.ranking`` already looked up: the typo and joined-preposition expansions
    (``spelling.typo_expansions``, which also carry the dialect lexicon's alternatives), the
    joined forms of known words (``spelling.clitic_forms``) and the editors' synonyms.  How
    each word was found (``coverage.match_profile``) says what its expansions are: a joined
    preposition taken off, or a typo guess.  Without a profile, only the words themselves."""
    kinds = {term.stem: term.how for term in profile.terms} if profile is not None else {}
    lexicon = dict(query.alternatives)
    by_synonym = _synonym_forms(query.stems, synonyms) if synonyms is not None else {}
    words = []
    for stem in weighed_stems(query):
        how = kinds.get(stem, "exact")
        forms: dict[tuple[str, ...], tuple[float, bool]] = {}

        def add(terms: tuple[str, ...], credit: float, guess: bool = False) -> None:
            if credit > forms.get(terms, (0.0, False))[0]:
                forms[terms] = (credit, guess)

        add((stem,), CREDITS[how] if how in ("exact", "stem", "dialect") else CREDITS["exact"])
        for near in expansions.get(stem, ()):
            kind = "dialect" if near in lexicon.get(stem, ()) else ("clitic" if how == "clitic" else "typo")
            add((near,), CREDITS[kind], kind == "typo")
        for joined in clitics.get(stem, ()):
            add((joined,), CREDITS["clitic"])
        for terms, weight in by_synonym.get(stem, ()):
            add(terms, CREDITS["synonym"] * weight)
        words.append(EvidenceWord(stem, tuple((terms, credit, guess) for terms, (credit, guess) in forms.items())))
    return tuple(words)


def _synonym_forms(stems: tuple[str, ...], synonyms: SynonymTable) -> dict[str, list[tuple[tuple[str, ...], float]]]:
    """For each query stem in a synonym entry the question names, the group's other entries
    (with ``SynonymTable.weighted_expansions``' weight: a Latin member for an Arabic question counts less)."""
    weights = dict(synonyms.weighted_expansions(stems))
    forms: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for group in synonyms.groups:
        named = [entry for entry in group if names_entry(stems, entry)]
        for entry in named:
            for other in group:
                if other not in named and weights.get(other):
                    for stem in entry:
                        forms.setdefault(stem, []).append((other, weights[other]))
    return forms


def keyword_evidence(searcher: KeywordSearcher, query: AnalyzedQuery, filters: Filters, postings,
                     words: tuple[EvidenceWord, ...] | None = None) -> KeywordEvidence:
    """Each allowed article's share of the question's weight (see :class:`KeywordEvidence`).

    `words`: what the keyword search looked for (:func:`evidence_words`); None counts the
    question's own stems only.  A word weighs its IDF over the allowed articles (a word
    they lack weighs most).  An article that has it in some form earns the best of
    ``credit * min(word's weight, the form's own IDF)`` over the forms it has: a typo
    candidate or a synonym counts less than the word, and only as much as the form itself
    is rare here, so an off-topic word whose one-edit neighbour is a word every article
    uses ("سعر" -> "شعر") earns next to nothing, while "بالصرطان" -> "سرطان" earns most.

    Only articles the filters allow are counted, for the frequencies as well as for the
    matches: a word found only in a draft or an internal article is, for a public search,
    a word the collection does not have."""
    if words is None:
        words = tuple(EvidenceWord(stem, (((stem,), 1.0, False),)) for stem in weighed_stems(query))
    allowed = searcher.allowed_mask(filters, "article")
    # The allowed articles' document numbers, in order: the arithmetic below runs over them
    # alone, not over every document of the index (passage documents are seven in eight),
    # each article's the same.
    docnums = np.flatnonzero(allowed)
    articles = len(docnums)
    if not words or not articles:
        return KeywordEvidence({}, frozenset(), known=False)
    reader = searcher.reader()
    present: dict[str, np.ndarray] = {}

    def having(term: str) -> np.ndarray:
        if term not in present:
            present[term] = _having(reader, postings, term, allowed)[docnums]
        return present[term]

    matched = np.zeros(articles, dtype=np.float64)
    complete = np.ones(articles, dtype=bool)
    total = 0.0
    known = False
    for word in words:
        weight = idf(articles, int(having(word.stem).sum()))
        total += weight
        earned = np.zeros(articles, dtype=np.float64)
        has = np.zeros(articles, dtype=bool)
        for terms, credit, guess in word.forms:
            found = having(terms[0]).copy()
            for term in terms[1:]:
                found &= having(term)
            if found.any():
                value = credit * min(weight, idf(articles, int(found.sum())))
                earned[found] = np.maximum(earned[found], value)
                known = known or not guess
                if not guess:
                    has |= found
        matched += earned
        complete &= has
    if total <= 0:
        return KeywordEvidence({}, frozenset(), known=False)
    rare_weight = idf(articles, max(1, math.ceil(RARE_SHARE * articles)))
    # A common word matches most articles (about 900 of the 1k benchmark's a request): the
    # shares are divided and compared as arrays, not a numpy scalar at a time (the same
    # float64 division and comparison; 0.3 ms less a request).
    docs = np.flatnonzero(matched > 0)
    earned_by_doc = matched[docs]
    slug_of = searcher.slug_of
    slugs = [slug_of(d) for d in docnums[docs].tolist()]
    shares = dict(zip(slugs, (earned_by_doc / total).tolist()))
    rare = frozenset(compress(slugs, (earned_by_doc >= rare_weight - 1e-9).tolist()))
    whole = frozenset(slug_of(d) for d in docnums[complete].tolist())
    return KeywordEvidence(shares, rare, known, whole)


def allowed_frequencies(searcher: KeywordSearcher, filters: Filters, postings) -> tuple[int, Callable[[str], int]] | None:
    """(articles the filters allow, how many of them hold a term) for ``coverage.match_profile``,
    or None when they allow every article (the index's own frequencies are the same then)."""
    allowed = searcher.allowed_mask(filters, "article")
    count = int(allowed.sum())
    reader = searcher.reader()
    if count >= reader.doc_frequency("kind", "article"):
        return None
    counts: dict[str, int] = {}

    def frequency(term: str) -> int:
        if term not in counts:
            counts[term] = int(_having(reader, postings, term, allowed).sum())
        return counts[term]

    return count, frequency


def _having(reader, postings, term: str, allowed: np.ndarray) -> np.ndarray:
    """Allowed article documents with the term in their title, headings or body."""
    present = np.zeros(len(allowed), dtype=bool)
    for leaf, offset in segment_leaves(reader):
        for field in _ARTICLE_FIELDS:
            ids, _ = postings.postings(leaf, field, term)
            if len(ids):
                present[ids + offset] = True
    return present & allowed

"""Words the index does not know as typed: typo candidates, joined prepositions, "did you mean".

Keyword search itself (``kb.search.keyword``) matches the index's own words.  This module
owns the guesses made for the others, each checked against the index: a likely one-edit
neighbour (``kb.search.vocabulary.typo_likelihood`` says how likely the edit is a typo, so
unknown dialect words do not become matches on unrelated words), the word without a joined
preposition the light stemmer keeps, a dialect verb form's MSA core, the joined forms of a
known word, and the corrected question offered as "did you mean".  Search-as-you-type's
prefix completions read the same vocabulary.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kb.search.dialect import verb_cores
from kb.search.vocabulary import Vocabulary
from kb.search.vocabulary import typo_likelihood
from kb.text import CLITIC_LETTERS
from kb.text import is_arabic
from kb.text import stem

if TYPE_CHECKING:
    from kb.search.keyword import AnalyzedQuery

# Typo tolerance looks up at most this many unknown words, each at most this long.
MAX_TYPO_WORDS = 3
MAX_TYPO_WORD = 24
# A typo candidate must be at least this likely an edit (kb.search.vocabulary.typo_likelihood):
# for words of up to SHORT_TYPO_WORD letters only neighbour keys, confused letters, swaps
# and doubled letters; for longer ones any edit but an unrelated letter.
SHORT_TYPO_WORD = 4
MIN_TYPO_STEM = 3  # words shorter than this are never typo-expanded; stems this short only through the typed word
SHORT_WORD_TYPO = 0.6
LONG_WORD_TYPO = 0.35


def near_terms(reader, field: str, term: str, vocabulary: Vocabulary, max_results: int = 3,
               min_likelihood: float | None = None) -> list[str]:
    """Index terms one likely edit (or swap of neighbouring letters) away from term, likeliest and
    most frequent first: each candidate scores its edit's likelihood times log(2 + document frequency),
    and edits less likely than `min_likelihood` (default: by the term's length) are no typos.

    One edit for every length: the edit-2 automaton Whoosh offers for words of 8+ letters
    walked much of the vocabulary in pure Python (up to 30 ms a word).  Dropping it moved
    hybrid nDCG@10 on ../shared/eval by at most 0.001 (arcd 0.8751 -> 0.8747, arcd typos
    0.8289 -> 0.8281, mlqa_ar_dev 0.8146 -> 0.8153, nsurl_q2q unchanged)."""
    scored = []
    least = min_typo_likelihood(term) if min_likelihood is None else min_likelihood
    for candidate in vocabulary.near(reader, field, term):
        likelihood = typo_likelihood(term, candidate)
        if likelihood >= least:
            scored.append((likelihood * math.log(2 + reader.doc_frequency(field, candidate)), candidate))
    return [candidate for _, candidate in sorted(scored, key=lambda item: (-item[0], item[1]))[:max_results]]


def min_typo_likelihood(word: str) -> float:
    """The least likely edit still taken for a typo of word: the shorter the word, the more
    of its neighbours are real words of their own, so only the likeliest edits count."""
    return SHORT_WORD_TYPO if len(word) <= SHORT_TYPO_WORD else LONG_WORD_TYPO


def typo_expansions(reader, query: AnalyzedQuery, vocabulary: Vocabulary) -> dict[str, list[str]]:
    """Index stems for the query's unknown words: a joined preposition, or a typo.

    Only words whose stem the index has never seen are expanded, so correct words keep
    their precision.  A word that starts with a joined preposition the light stemmer keeps
    ("لجزيرة", "بجوجل") is first tried without it.  Otherwise, typo candidates come from two
    places: stems one edit away from the query's stem, and stems of surface words one edit
    away from what was typed (a typo often changes which prefix or suffix the stemmer
    strips, so the stems differ by more).
    """
    expansions: dict[str, list[str]] = {}
    tried = 0
    for term, others in query.alternatives:
        expansions[term] = list(others)
    for word, term in zip(query.words, query.stems):
        # The typed word's length decides, not the stem's: light10 leaves two letters of
        # "اللفه" (a typo of "اللغه"), and its surface neighbours are still looked up below
        # (arcd with one typo a question +0.001 nDCG@10; no other set moved).
        if term in expansions or term in query.from_lexicon or len(word) < MIN_TYPO_STEM or len(word) > MAX_TYPO_WORD \
                or term.isdigit() or reader.doc_frequency("body", term):
            continue
        unjoined = stem(word[1:]) if len(word) >= 4 and word[0] in CLITIC_LETTERS else term
        if unjoined != term and reader.doc_frequency("body", unjoined):
            expansions[term] = [unjoined]
            continue
        cores = [stem(core) for core in verb_cores(word)]
        known = [core for core in cores if core != term and reader.doc_frequency("body", core)]
        if known:  # a dialect verb form: "ماوصلش" is وصل negated, no typo
            expansions[term] = known[:1]
            continue
        tried += 1
        if tried > MAX_TYPO_WORDS:  # bound the work a long message can ask for
            break
        # A short word's neighbours are mostly real words of their own: stems of up to
        # MIN_TYPO_STEM letters are looked up only through the (longer) word as typed.
        near = set(near_terms(reader, "body", term, vocabulary)) if len(term) > MIN_TYPO_STEM else set()
        if len(word) > MIN_TYPO_STEM:
            for surface in near_terms(reader, "spell", word, vocabulary, max_results=3):
                candidate = stem(surface)
                if candidate != term and reader.doc_frequency("body", candidate):
                    near.add(candidate)
        if near:
            expansions[term] = sorted(near, key=lambda t: (-reader.doc_frequency("body", t), t))[:4]
    return expansions


def clitic_forms(reader, query: AnalyzedQuery) -> dict[str, list[str]]:
    """For each known query stem, the index stems that are it with a joined preposition."""
    forms: dict[str, list[str]] = {}
    for term in query.unique_stems:
        if len(term) < 3 or not is_arabic(term) or not reader.doc_frequency("body", term):
            continue
        found = [letter + term for letter in CLITIC_LETTERS if reader.doc_frequency("body", letter + term)]
        if found:
            forms[term] = found
    return forms


def did_you_mean(reader, words: tuple[str, ...], vocabulary: Vocabulary) -> str | None:
    """The query with unknown words replaced by the closest frequent index words, or None."""
    corrected = []
    changed = False
    for position, word in enumerate(words):
        if position < MAX_TYPO_WORDS * 2 and 3 <= len(word) <= MAX_TYPO_WORD and not word.isdigit() \
                and reader.doc_frequency("spell", word) == 0:
            near = near_terms(reader, "spell", word, vocabulary, max_results=1)
            if near:
                corrected.append(near[0])
                changed = True
                continue
        corrected.append(word)
    return " ".join(corrected) if changed else None


def vocabulary_prefix(reader, prefix: str, limit: int) -> list[str]:
    """Index words starting with prefix, most frequent first (for search-as-you-type)."""
    # Whoosh yields the raw (UTF-8 bytes) terms here, unlike lexicon-to-text elsewhere.
    words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in reader.expand_prefix("spell", prefix)]
    words.sort(key=lambda w: -reader.doc_frequency("spell", w))
    return words[:limit]

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
from typing import Callable
from typing import Collection
from typing import Iterable

from kb.search.common_words import is_common
from kb.search.derivation import verbal_nouns
from kb.search.dialect import verb_cores
from kb.search.vocabulary import Vocabulary
from kb.search.vocabulary import typo_likelihood
from kb.text import CLITIC_LETTERS
from kb.text import is_arabic
from kb.text import is_stopword
from kb.text import normalize_arabic
from kb.text import stem
from kb.text import word_spans

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
# Verbal nouns (kb.search.derivation) kept for a verb the index lacks and no dialect core
# explains, before any typo guess ("اطور" is تطوير, not the typo of اطار).  Measured against
# no verbal nouns: arcd 0.8735 -> 0.8746 (2 up, none down), arcd with typos 0.8330 -> 0.8337
# (3 up, 1 down), dial2msa one question up, mlqa_ar_dev and nsurl_q2q unchanged; help-center
# first halves: tuning set unchanged, held-out development half +1 top-1 and top-3.  Typo
# guesses first instead: the development half unchanged, the typo set 3 up and none down.
MAX_VERBAL_NOUNS = 2
# Spoken Arabic joins على to the article as a single ع ("عالمنافسين", "عالايميل": على
# المنافسين, على الايميل) in every dialect the lexicon reads; tried like a joined preposition,
# for a word the index does not know ("عالم", world, is one it knows).
SPOKEN_ALA = "عال"


# Where a word counts as one the index knows: an article's title, its headings (with FAQ
# questions and tags) or its text.  A word only a tag or a title holds ("تحفيز" in the tag
# تحفيز الموظفين) is as much the article's as one its text holds, and a typo's stem is
# corrected to it too (help-center first halves and every benchmark row unchanged; two
# questions of the halves nobody tunes on up, none down).
KNOWN_FIELDS = ("body", "headings", "title")


def known_frequency(reader, term: str) -> int:
    """How many articles hold `term` in one of KNOWN_FIELDS (the most of the fields' counts)."""
    return max(reader.doc_frequency(field, term) for field in KNOWN_FIELDS)


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


def near_words(word: str, words: Iterable[str]) -> list[str]:
    """Of `words` (a short list, such as the synonyms'), the one likely typo edit from `word`
    that is likeliest (then first in alphabetical order), as a one-item list; [] when none is.
    A walk over the list: the synonyms file holds a few hundred words, not an index."""
    least = min_typo_likelihood(word)
    scored = [(likelihood, candidate) for candidate in words
              if abs(len(candidate) - len(word)) <= 1 and (likelihood := typo_likelihood(word, candidate)) >= least]
    return [min(scored, key=lambda item: (-item[0], item[1]))[1]] if scored else []


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
    strips, so the stems differ by more).  Before any typo is guessed, a verb whose verbal
    noun the index holds is read as that noun (``kb.search.derivation``: "اطور" -> تطوير).
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
                or term.isdigit() or known_frequency(reader, term):
            continue
        unjoined = stem(word[1:]) if (len(word) >= 4 and word[0] in CLITIC_LETTERS) \
            or (len(word) >= 6 and word.startswith(SPOKEN_ALA)) else term
        if unjoined != term and known_frequency(reader, unjoined):
            expansions[term] = [unjoined]
            continue
        cores = [stem(core) for core in verb_cores(word)]
        known = [core for core in cores if core != term and known_frequency(reader, core)]
        if known:  # a dialect verb form: "ماوصلش" is وصل negated, no typo
            expansions[term] = known[:1]
            continue
        # A verb asked about through its noun: "اطور" is تطوير, not the typo of اطار.
        nouns = [noun for noun in dict.fromkeys(stem(noun) for noun in verbal_nouns(word))
                 if noun != term and len(noun) >= MIN_TYPO_STEM and known_frequency(reader, noun)
                 ] if len(word) >= 4 else []
        if nouns:
            expansions[term] = nouns[:MAX_VERBAL_NOUNS]
            continue
        tried += 1
        if tried > MAX_TYPO_WORDS:  # bound the work a long message can ask for
            break
        # A short word's neighbours are mostly real words of their own: stems of up to
        # MIN_TYPO_STEM letters are looked up only through the (longer) word as typed.
        near = {found for field in KNOWN_FIELDS for found in near_terms(reader, field, term, vocabulary)} \
            if len(term) > MIN_TYPO_STEM else set()
        if len(word) > MIN_TYPO_STEM:
            for surface in near_terms(reader, "spell", word, vocabulary, max_results=3):
                candidate = stem(surface)
                if candidate != term and known_frequency(reader, candidate):
                    near.add(candidate)
        if near:
            expansions[term] = sorted(near, key=lambda t: (-known_frequency(reader, t), t))[:4]
    return expansions


def clitic_forms(reader, query: AnalyzedQuery) -> dict[str, list[str]]:
    """For each known query stem, the index stems that are it with a joined preposition."""
    forms: dict[str, list[str]] = {}
    for term in query.unique_stems:
        if len(term) < 3 or not is_arabic(term) or not known_frequency(reader, term):
            continue
        found = [letter + term for letter in CLITIC_LETTERS if known_frequency(reader, letter + term)]
        if found:
            forms[term] = found
    return forms


def did_you_mean(reader, text: str, query: AnalyzedQuery, vocabulary: Vocabulary,
                 word_pieces: Callable[[str], int] | None = None, synonym_words: Collection[str] = ()) -> str | None:
    """The question as typed with its likely typos replaced by the closest frequent index
    words, or None when it has none.

    The editors' synonyms are vocabulary too (`synonym_words`, ``SynonymTable.words``): a
    word no article writes but a synonym group names ("email", which leads to البريد
    الإلكتروني in an Arabic help center) is no typo, and is the correction of a word one
    likely edit from it when the index has none ("emial support" -> "email support").

    A word is taken for a typo when the index has never seen it and it is no stop word, no
    dialect form the lexicon reads (``query.dialect``), no number, not a word the
    embedding model's tokenizer holds whole (`word_pieces` of it is 1, see
    ``kb.search.embed.word_pieces``) and not a word people commonly write
    (``kb.search.common_words``): without those, a question the help center has no answer
    for was "corrected" into its vocabulary, one real word at a time ("سعر الذهب" -> "سعر
    الذهاب", "متى ولد" -> "ورد", "gold price" -> "good price", "لبس العيد" -> "ليس العديد").
    Of 1,308 typos in arcd with one typo a question, 1 % are a single piece; of the 194 real
    words those suggestions had replaced on the launch articles, 58 %.  Measured, the
    tokenizer check: suggestions for off-topic questions on the launch articles 50 -> 32
    (everyday set) and 91 -> 35 (encyclopedia-style set); on arcd with one typo, asked of
    every question, the typo corrected in 964 -> 963 of 1,387, a right word changed in
    221 -> 192.  Then the common-word check (with the search's own "no answer" judging
    each suggestion, kb.knowledge): off-topic suggestions 9 -> 1 and 4 -> 1, the one left
    in the everyday set a right spelling (نتايج -> نتائج); on arcd with one typo, the typo
    corrected in 963 -> 949, a right word changed in 192 -> 79.  The rest of the question
    stays as it was typed (it was shown without its stop words, dialect forms in their MSA
    words: "متى ولد أحمد شوقي؟" -> "ورد احمد شوقي")."""
    dialect_words = {word for form, _ in query.dialect for word in form.split()}
    corrections: list[tuple[int, int, str]] = []
    looked_up = 0
    for start, end in word_spans(text):
        surface = text[start:end]
        word = normalize_arabic(surface).lower()
        if not 3 <= len(word) <= MAX_TYPO_WORD or word.isdigit() or is_stopword(word) or word in dialect_words \
                or reader.doc_frequency("spell", word) or word in synonym_words \
                or (word_pieces is not None and word_pieces(surface) <= 1) or is_common(surface):
            continue
        looked_up += 1
        if looked_up > MAX_TYPO_WORDS * 2:  # bound the work a long message can ask for
            break
        near = near_terms(reader, "spell", word, vocabulary, max_results=1) or near_words(word, synonym_words)
        if near:
            corrections.append((start, end, near[0]))
    if not corrections:
        return None
    corrected = text
    for start, end, word in reversed(corrections):  # from the end: earlier spans keep their offsets
        corrected = corrected[:start] + word + corrected[end:]
    return corrected


def vocabulary_prefix(reader, prefix: str, limit: int) -> list[str]:
    """Index words starting with prefix, most frequent first (for search-as-you-type)."""
    # Whoosh yields the raw (UTF-8 bytes) terms here, unlike lexicon-to-text elsewhere.
    words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in reader.expand_prefix("spell", prefix)]
    words.sort(key=lambda w: -reader.doc_frequency("spell", w))
    return words[:limit]

"""How much of a question the keyword side can actually see: the per-question match profile.

Hybrid fusion used to give the keyword side a fixed weight per collection.  That weight
is right for a question whose words the articles use, and wrong for a customer writing in
dialect or chat style: there the few words the index knows are the ones every article
shares (عميل، خدمة، دعم), and BM25 ranks on them alone.  The profile says, for each of the
question's words (stop words left out), how it was found in this collection and how much
it weighs (its IDF here), so fusion can let the dense side lead when little of the
question was found.

How a word is found, best first (``CREDITS`` says how much each kind counts):
``exact``   the typed word itself occurs in the articles;
``stem``    only its stem does (another form of the same word);
``clitic``  it does once a joined preposition is taken off ("لجزيرة" -> "جزيرة");
``dialect`` the dialect lexicon's MSA word for it does ("متنرفز" -> "غاضب", ``kb.search.dialect``);
``synonym`` an editors' synonym of it does (a different word meaning the same);
``typo``    only a word one edit away does (a guess: maybe the word meant, maybe not);
``missing`` nothing: a dialect word, a name the articles never use.

Everything here is computed from what ``kb.search.ranking`` already looked up (the analyzed
query, its typo expansions, the synonyms table); ``matched_share`` and the fusion weight
are pure arithmetic, so the profile can be captured once and re-weighted offline
(``scripts/tune_fusion.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Callable
from typing import Mapping

from kb.search.keyword import COMMON_TERM_SHARE
from kb.search.synonyms import names_entry
from kb.text import CLITIC_LETTERS
from kb.text import stem as stem_word

if TYPE_CHECKING:
    from kb.search.keyword import AnalyzedQuery
    from kb.search.synonyms import SynonymTable

# How much a query word found each way counts toward the matched share.  A stem match is
# nearly as good as the word itself; a joined preposition is a sure reading; the lexicon's
# MSA word is a reviewed reading; a synonym is the editors' word for it; a typo candidate is
# a guess.  Measured on the first halves of ../shared/eval and the help-center questions
# (scripts/tune_fusion.py): typo 0.5 cost arcd with one typo a question 0.003 against 0.7;
# the other credits moved no collection by more than 0.001.
CREDITS: Mapping[str, float] = {
    "exact": 1.0,
    "stem": 0.9,
    "clitic": 0.8,
    "dialect": 0.8,
    "typo": 0.7,
    "synonym": 0.6,
    "missing": 0.0,
}
# A word no article uses weighs this share of the rarest word's IDF.  Often it is a question
# word the stop list lacks ("بماذا") or a misspelling, not a word that would single out an
# article: at the full weight, MSA questions about Wikipedia paragraphs (arcd) lost 0.002.
MISSING_WEIGHT = 0.75
# An unknown word of one or two letters is almost never what singles an article out: a stray
# letter or a mistyped particle ("وا" for "ما", "يف" for "كيف").  At MISSING_WEIGHT such a
# token alone pushed an MSA question under the fusion ramp.  Chosen on the first halves of
# ../shared/eval and the help-center questions (scripts/tune_fusion.py): mlqa_ar_dev +0.001,
# arcd +0.0002, the help center unchanged in top-1 and top-3 (0 lost one help-center question).
SHORT_MISSING_WEIGHT = 0.25
SHORT_WORD = 2
_FIELDS = ("body", "headings", "title")


@dataclass(frozen=True)
class TermMatch:
    """One distinct word of the question: its stem, its weight (IDF here) and how it was found."""

    stem: str
    weight: float
    how: str


@dataclass(frozen=True)
class MatchProfile:
    """The question's words as the keyword side sees them in this collection."""

    terms: tuple[TermMatch, ...] = ()
    articles: int = 0  # collection size the weights were computed on

    def matched_share(self, credits: Mapping[str, float] = CREDITS) -> float:
        """Share of the question's weight the keyword side found, each kind counted by its credit.

        1.0 when every word occurs as typed; near 0 when only common words were found.  A
        question with no weighted word at all (every word a stop word) counts as fully
        matched: there is nothing the dense side would see better.
        """
        total = sum(term.weight for term in self.terms)
        if total <= 0:
            return 1.0
        return sum(term.weight * credits.get(term.how, 0.0) for term in self.terms) / total

    def kinds(self) -> dict[str, float]:
        """Share of the question's weight found each way (sums to 1 over the kinds present)."""
        total = sum(term.weight for term in self.terms) or 1.0
        shares: dict[str, float] = {}
        for term in self.terms:
            shares[term.how] = shares.get(term.how, 0.0) + term.weight / total
        return shares

    @property
    def reads_dialect(self) -> bool:
        """Some word of the question was found only through the dialect lexicon's MSA word."""
        return any(term.how == "dialect" for term in self.terms)

    def tells_apart(self) -> bool:
        """Whether some word the keyword side found is in at most COMMON_TERM_SHARE of the articles
        (the share above which ``keyword.prune_common_terms`` calls a word common).

        When every word it found is one most articles use (خدمة and عملاء in a customer-service
        help center: "شنو هي خدمة الكليان" once its dialect words are read), its ranking is BM25
        over words that cannot single an article out, and the fusion should let the dense side
        lead, however much of the question those words make up.  (The keyword query keeps such
        words when nothing else is left, ``keyword.prune_common_terms``.)  True when nothing
        was found or the question has no weighted word: matched_share decides those."""
        found = [term for term in self.terms if term.how != "missing"]
        if not found:
            return True
        common = idf(self.articles, int(COMMON_TERM_SHARE * self.articles) + 1)
        return any(term.weight > common for term in found)

    def found_whole(self) -> bool:
        """Every weighted word of the question was found in a sure form: as typed, stemmed, with a
        joined letter, through the dialect lexicon or a synonym (a typo candidate is a guess)."""
        return bool(self.terms) and all(term.how not in ("missing", "typo") for term in self.terms)

    def matched_rarity(self) -> float:
        """Mean weight of the found words over the largest weight possible here (0-1):
        high when the words found are rare in this collection (they single articles out),
        low when they are words every article uses."""
        found = [term.weight for term in self.terms if term.how != "missing"]
        ceiling = idf(self.articles, 1)
        return sum(found) / len(found) / ceiling if found and ceiling > 0 else 0.0


def idf(articles: int, frequency: int) -> float:
    """BM25's IDF with a floor at zero: log(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log(1.0 + (max(articles - frequency, 0) + 0.5) / (frequency + 0.5))


def match_profile(reader, query: AnalyzedQuery, expansions: Mapping[str, list[str]],
                  synonyms: SynonymTable, allowed: tuple[int, Callable[[str], int]] | None = None) -> MatchProfile:
    """Each distinct query word's IDF in this collection and the best way it was found.

    `reader` answers ``doc_frequency(field, term)`` (the searcher's caching reader: these are
    the same look-ups the query building made); `expansions` are ``spelling.typo_expansions``.
    `allowed`: (how many articles the search may list, how many of them hold a term), when
    the filters hide some (``evidence.allowed_frequencies``): a word only a draft or an
    internal article holds is then missing for a public search, as it is for the no-answer
    evidence, and does not change how much the keyword side counts.
    """
    if allowed is not None:
        articles, frequency = max(1, allowed[0]), allowed[1]
    else:
        articles = max(1, reader.doc_frequency("kind", "article"))

        def frequency(term: str) -> int:
            return max(reader.doc_frequency(field, term) for field in _FIELDS)

    by_synonym = _found_through_synonyms(query.stems, synonyms, frequency)
    lexicon_alternatives = dict(query.alternatives)
    seen: set[str] = set()
    terms: list[TermMatch] = []
    for word, term in zip(query.words, query.stems):
        if term in seen:
            continue
        seen.add(term)
        df = frequency(term)
        if term in query.from_lexicon and (df or any(frequency(t) for t in lexicon_alternatives.get(term, ()))):
            how = "dialect"
        elif df:
            how = "exact" if reader.doc_frequency("spell", word) else "stem"
        elif any(frequency(t) for t in lexicon_alternatives.get(term, ())):
            how = "dialect"
        elif term in by_synonym:
            how = "synonym"
        elif expansions.get(term):
            how = "clitic" if _unjoined(word) in expansions[term] else "typo"
        else:
            how = "missing"
        weight = idf(articles, df) if df else _missing_weight(term) * idf(articles, 1)
        terms.append(TermMatch(term, weight, how))
    return MatchProfile(tuple(terms), articles)


def _missing_weight(term: str) -> float:
    return SHORT_MISSING_WEIGHT if len(term) <= SHORT_WORD else MISSING_WEIGHT


def _unjoined(word: str) -> str | None:
    return stem_word(word[1:]) if len(word) >= 4 and word[0] in CLITIC_LETTERS else None


def _found_through_synonyms(stems: tuple[str, ...], synonyms: SynonymTable, frequency) -> set[str]:
    """Query stems that belong to a synonym entry whose group has another entry in the articles."""
    found: set[str] = set()
    for group in synonyms.groups:
        present = [entry for entry in group if names_entry(stems, entry)]
        if not present:
            continue
        if any(entry not in present and all(frequency(term) for term in entry) for entry in group):
            for entry in present:
                found.update(entry)
    return found

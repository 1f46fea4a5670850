"""Typo candidates from the index vocabulary, held as Python sets per segment.

Whoosh finds the terms near a word with a Levenshtein automaton walked over its term
file in pure Python: 3 to 30 ms a word, several words a customer message (8 ms of every
suggest request at 1k articles).  Here each segment's vocabulary of a field is read once
into a set (segments never change; an update adds a new one), and the words one edit away
are generated and looked up: about 0.1 ms a word.  The edits of an Arabic word use the
Arabic letters only, those of a Latin word the other letters (a mixed-script "typo" is no
index term, and half the alphabet halves the work), and the last few thousand words'
candidates are kept per index state: the same unknown words (dialect, brand names) come
back in message after message.

Being one edit away is not enough to be a typo: "معصب" (Gulf for angry) is one letter from
"منصب" (a post), "بدي" from "بدء".  ``typo_likelihood`` weighs each edit by how people
really mistype (``kb.search.spelling.near_terms`` keeps only likely ones).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from kb.search.leaves import segment_leaves
from kb.text import is_arabic

# Words whose candidates are kept (a few hundred bytes each).
MAX_REMEMBERED_WORDS = 4096


def edits1(word: str, alphabet: str, keep_first: bool = True) -> set[str]:
    """Every string one deletion, insertion, substitution or swap of neighbours from word.

    With keep_first, deletions, insertions and substitutions leave the first letter alone
    (as Whoosh's ``terms_within(..., prefix=1)`` did); swaps may move it."""
    start = 1 if keep_first else 0
    found: set[str] = set()
    for i in range(start, len(word)):
        found.add(word[:i] + word[i + 1:])
        for letter in alphabet:
            found.add(word[:i] + letter + word[i + 1:])
    for i in range(start, len(word) + 1):
        for letter in alphabet:
            found.add(word[:i] + letter + word[i:])
    for i in range(len(word) - 1):
        found.add(word[:i] + word[i + 1] + word[i] + word[i + 2:])
    found.discard(word)
    return found


class Vocabulary:
    """(segment, field) -> (the field's terms, the letters they use); owned by KnowledgeBase."""

    def __init__(self, max_words: int = MAX_REMEMBERED_WORDS) -> None:
        self._fields: dict[tuple[str, str], tuple[frozenset[str], str]] = {}
        self._near: OrderedDict[tuple, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_words = max_words

    def of(self, leaf, field: str) -> tuple[frozenset[str], str]:
        key = (leaf.segment().segment_id(), field)
        found = self._fields.get(key)
        if found is None:
            terms = frozenset(_decoded(term) for term in leaf.lexicon(field)) if field in leaf.schema else frozenset()
            letters = "".join(sorted({letter for term in terms for letter in term}))
            found = (terms, letters)
            with self._lock:
                self._fields[key] = found
        return found

    def holds(self, reader, field: str) -> Callable[[str], bool]:
        """A test for "is this a word of field in some segment of reader": set look-ups, for
        checking many spellings of a word at once (``kb.search.arabizi``)."""
        sets = [self.of(leaf, field)[0] for leaf, _ in segment_leaves(reader)]
        return lambda word: any(word in terms for terms in sets)

    def near(self, reader, field: str, word: str) -> set[str]:
        """Index terms of field one edit (or one swap) from word, in any segment of reader."""
        leaves = segment_leaves(reader)
        key = (field, word, tuple(leaf.segment().segment_id() for leaf, _ in leaves))
        with self._lock:
            found = self._near.get(key)
            if found is not None:
                self._near.move_to_end(key)
                return set(found)
        arabic = is_arabic(word)
        candidates: set[str] = set()
        for leaf, _ in leaves:
            terms, letters = self.of(leaf, field)
            if terms:
                same_script = "".join(letter for letter in letters if is_arabic(letter) == arabic)
                candidates.update(edit for edit in edits1(word, same_script) if edit in terms)
        with self._lock:
            self._near[key] = frozenset(candidates)
            while len(self._near) > self.max_words:
                self._near.popitem(last=False)
        return candidates

    def forget_except(self, segment_ids: set[str]) -> None:
        """Drop the sets of segments no longer in the index (merged away)."""
        with self._lock:
            for key in [k for k in self._fields if k[0] not in segment_ids]:
                del self._fields[key]
            for key in [k for k in self._near if not set(k[2]) <= segment_ids]:
                del self._near[key]


def _decoded(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


# -- how likely an edit is a typo -------------------------------------------------------------

# The Arabic (101) and QWERTY keyboards, letters as kb.text.normalize_arabic leaves them
# (ى -> ي, ة -> ه; the "لا" key is left out).  Neighbours: left and right on the row, and
# the two keys touching from the row above and below (rows are staggered).
_KEY_ROWS = (
    ("ضصثقفغعهخحجد", "شسيبلاتنمكط", "ئءؤر يهوزظ"),
    ("qwertyuiop", "asdfghjkl", "zxcvbnm"),
)
# Letters readers confuse by sound or spelling (hamza seats, emphatic and plain pairs,
# interdentals and their dialect reflexes, ة written ت or ا), once folded by
# normalize_arabic; and the letters foreign names are transliterated with (the long vowels
# for one another, g as ج/غ/ك/ق, p as ب/ف, s/z, sh/ch as ش/خ).
_CONFUSED = (
    "اء", "اؤ", "ائ", "ءؤ", "ءئ", "ئؤ", "ئي", "ؤو", "اع", "ءع", "هح", "هت", "ها", "ضظ", "ضد", "ظز", "ذز", "ذد", "ذظ",
    "ثس", "ثت", "سص", "صض", "تط", "دط", "قك", "قء", "قغ", "جغ", "خغ", "يا", "وا", "وي",
    "كج", "كغ", "جق", "بف", "زس", "شخ",
)
_LONG_VOWELS = set("اويء")
# Letters that differ only in their dots (one skeleton): misread and mistyped for one another.
_SAME_SKELETON = ("بتثنيئ", "جحخ", "دذ", "رز", "سش", "صض", "طظ", "عغ", "فق")


def _neighbours() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rows in _KEY_ROWS:
        for r, row in enumerate(rows):
            for i, key in enumerate(row):
                near = {row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)}
                for other in (r - 1, r + 1):
                    if 0 <= other < len(rows):
                        shift = 0 if other < r else -1
                        near.update(rows[other][j] for j in (i + shift, i + shift + 1) if 0 <= j < len(rows[other]))
                found.setdefault(key, set()).update(near - {" ", key})
    return found


_NEAR_KEYS = _neighbours()
_CONFUSED_PAIRS = {frozenset(pair) for pair in _CONFUSED}
_SKELETON_PAIRS = {frozenset((a, b)) for group in _SAME_SKELETON for a in group for b in group if a != b}

# Likelihood of each kind of edit (0-1), from how typos are made: a key's neighbour, letters
# confused by sound or spelling, letters of one dotless skeleton, two letters swapped, a
# letter dropped (most often a long vowel, a hamza or one of a doubled pair) or doubled.
# Anything else (an unrelated consonant swapped in, a random letter added) rarely is a typo
# and changes the word's consonant skeleton: it is what turns a dialect word into an
# unrelated MSA word.  Chosen on the first halves of ../shared/eval (arcd with typos,
# mlqa_ar_dev, nsurl_q2q, dial2msa), keyword mode.
CONFUSED_LETTER = 0.8
NEIGHBOUR_KEY = 0.6
SAME_SKELETON = 0.4
SWAPPED = 0.6
DOUBLED = 0.7
DROPPED_VOWEL = 0.6
DROPPED_LETTER = 0.4
EXTRA_VOWEL = 0.4
EXTRA_NEIGHBOUR = 0.5
UNRELATED = 0.1


def typo_likelihood(typed: str, candidate: str) -> float:
    """How likely it is that someone meaning `candidate` typed `typed` (one edit or swap apart).

    Returns 0.0 when the two are not one edit apart."""
    if len(typed) == len(candidate):
        diffs = [i for i, (a, b) in enumerate(zip(typed, candidate)) if a != b]
        if len(diffs) == 1:
            wrong, meant = typed[diffs[0]], candidate[diffs[0]]
            pair = frozenset((wrong, meant))
            if pair in _CONFUSED_PAIRS:
                return CONFUSED_LETTER
            if wrong in _NEAR_KEYS.get(meant, ()):
                return NEIGHBOUR_KEY
            return SAME_SKELETON if pair in _SKELETON_PAIRS else UNRELATED
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1 and typed[diffs[0]] == candidate[diffs[1]] \
                and typed[diffs[1]] == candidate[diffs[0]]:
            return SWAPPED
        return 0.0
    if len(typed) + 1 == len(candidate):  # a letter of the meant word was dropped
        i = _first_difference(typed, candidate)
        if typed != candidate[:i] + candidate[i + 1:]:
            return 0.0
        letter = candidate[i]
        if letter in candidate[max(0, i - 1):i] or letter in candidate[i + 1:i + 2]:
            return DOUBLED
        return DROPPED_VOWEL if letter in _LONG_VOWELS else DROPPED_LETTER
    if len(typed) == len(candidate) + 1:  # an extra letter was typed
        i = _first_difference(candidate, typed)
        if candidate != typed[:i] + typed[i + 1:]:
            return 0.0
        letter = typed[i]
        beside = typed[max(0, i - 1):i] + typed[i + 1:i + 2]
        if letter in beside:
            return DOUBLED
        if any(letter in _NEAR_KEYS.get(other, ()) for other in beside):
            return EXTRA_NEIGHBOUR
        return EXTRA_VOWEL if letter in _LONG_VOWELS else UNRELATED
    return 0.0


def _first_difference(shorter: str, longer: str) -> int:
    for i, letter in enumerate(shorter):
        if longer[i] != letter:
            return i
    return len(shorter)

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
"""

from __future__ import annotations

import threading
from collections import OrderedDict

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

    def near(self, reader, field: str, word: str) -> set[str]:
        """Index terms of field one edit (or one swap) from word, in any segment of reader."""
        leaves = reader.leaf_readers()
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

"""Typo candidates from the index vocabulary, held as Python sets per segment.

Whoosh finds the terms near a word with a Levenshtein automaton walked over its term
file in pure Python: 3 to 30 ms a word, several words a customer message (8 ms of every
suggest request at 1k articles).  Here each segment's vocabulary of a field is read once
into a set (segments never change; an update adds a new one), and the words one edit away
are generated and looked up: about 0.1 ms a word.
"""

from __future__ import annotations

import threading


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

    def __init__(self) -> None:
        self._fields: dict[tuple[str, str], tuple[frozenset[str], str]] = {}
        self._lock = threading.Lock()

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
        candidates: set[str] = set()
        for leaf, _ in reader.leaf_readers():
            terms, letters = self.of(leaf, field)
            if terms:
                candidates.update(edit for edit in edits1(word, letters) if edit in terms)
        return candidates

    def forget_except(self, segment_ids: set[str]) -> None:
        """Drop the sets of segments no longer in the index (merged away)."""
        with self._lock:
            for key in [k for k in self._fields if k[0] not in segment_ids]:
                del self._fields[key]


def _decoded(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term

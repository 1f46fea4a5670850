"""A searcher of the keyword index, with what it learns about the one index state it sees.

Whoosh evaluates a filter query anew on every search and looks each document frequency up in
its term table; a searcher sees one fixed state of the index, so both answers can be kept for
as long as it lives.  Queries themselves are ``kb.search.keyword``'s; the pool of searchers is
``kb.search.searchers``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kb.search.segments import SegmentCaches
from kb.search.segments import allowed_mask

if TYPE_CHECKING:
    from kb.search.keyword import Filters


class KeywordSearcher:
    """A Whoosh searcher plus what it has learned about the index state it sees.

    A searcher sees one fixed state of the index, so the documents each filter allows and
    each document's slug can be kept for as long as it lives (Whoosh evaluates a filter
    query anew on every search, about as costly as the search itself).  Everything else
    (``reader()``, ``search()``, ``stored_fields()`` ...) is the Whoosh searcher's own.
    """

    def __init__(self, searcher, caches: SegmentCaches | None = None):
        self.whoosh = searcher
        self.caches = caches or SegmentCaches()
        self._allowed: dict[tuple[Filters, str], set[int]] = {}
        self._masks: dict[tuple[Filters, str], np.ndarray] = {}
        self._slugs: dict[int, str] = {}
        self._reader: FrequencyCachingReader | None = None

    def __getattr__(self, name: str):
        return getattr(self.whoosh, name)

    def reader(self) -> FrequencyCachingReader:
        """The Whoosh reader, with its document frequencies remembered (see FrequencyCachingReader)."""
        if self._reader is None:
            self._reader = FrequencyCachingReader(self.whoosh.reader())
        return self._reader

    def allowed_docs(self, filters: Filters, kind: str) -> set[int]:
        """Document numbers of this kind ("article" or "passage") that pass the filters."""
        key = (filters, kind)
        docs = self._allowed.get(key)
        if docs is None:
            docs = self._allowed[key] = set(np.flatnonzero(self.allowed_mask(filters, kind)).tolist())
        return docs

    def allowed_mask(self, filters: Filters, kind: str) -> np.ndarray:
        """The same set as a boolean array over document numbers (per segment, from the cache)."""
        key = (filters, kind)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks[key] = allowed_mask(self.whoosh.reader(), filters.terms(kind), self.caches.filters,
                                                   self.caches.postings)
        return mask

    def slug_of(self, docnum: int) -> str:
        slug = self._slugs.get(docnum)
        if slug is None:
            slug = self._slugs[docnum] = self.whoosh.stored_fields(docnum)["slug"]
        return slug


class FrequencyCachingReader:
    """A Whoosh reader whose ``doc_frequency`` answers are kept for the reader's life.

    A search asks for a hundred or more document frequencies (pruning, typo checks,
    joined forms, passage idf), each a term-table lookup in Python (about 10 µs); the
    reader sees one fixed state of the index, so the answers never change.  Used by one
    thread at a time, like the searcher that owns it.  Everything else is the reader's own."""

    MAX_KEPT = 100_000

    def __init__(self, reader):
        self.whoosh = reader
        self._frequencies: dict[tuple[str, str], int] = {}

    def doc_frequency(self, field: str, term: str) -> int:
        key = (field, term)
        found = self._frequencies.get(key)
        if found is None:
            if len(self._frequencies) >= self.MAX_KEPT:
                self._frequencies.clear()
            found = self._frequencies[key] = self.whoosh.doc_frequency(field, term)
        return found

    def __getattr__(self, name: str):
        return getattr(self.whoosh, name)

"""What a search reads from the immutable Whoosh segments, kept once for every thread.

A Whoosh segment never changes after it is written (an update adds a segment and marks
deletions), so whatever is read from one can be kept for as long as it exists: posting
lists (``kb.search.bm25.PostingsCache``), vocabularies for typo lookups
(``kb.search.vocabulary.Vocabulary``) and the stored passages of the articles a search
puts on its first page (:class:`ArticlePassages`).  ``KnowledgeBase`` owns one
:class:`SegmentCaches` and tells it which segments are still live when the index changes.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections import OrderedDict
from dataclasses import dataclass
from dataclasses import field

import numpy as np

from kb.search.bm25 import PostingsCache
from kb.search.leaves import segment_leaves
from kb.search.vocabulary import Vocabulary

# Stored passages kept (about 4 KB each with their parsed terms, so some 64 MB): the
# articles that keep coming back on first pages.  At 10k articles the first pages of 80
# different customer messages looked at about 7,000 passages.
MAX_CACHED_PASSAGES = 16384


@dataclass(frozen=True)
class StoredPassage:
    """A passage document's stored ``passage`` field (without its ``terms`` string), and its
    index terms in order (interned: the same few thousand words recur in every passage) and
    counted."""

    passage: dict
    terms: tuple[str, ...]
    counts: dict[str, int]

    @classmethod
    def of(cls, stored: dict) -> StoredPassage:
        passage = dict(stored)
        terms = tuple(sys.intern(term) for term in passage.pop("terms", "").split())
        return cls(passage, terms, dict(Counter(terms)))


class ArticlePassages:
    """(segment, article slug) -> the article's stored passages in that segment, bounded LRU.

    A search reads the passages of the ten or so articles on its first page.  Finding an
    article's documents through Whoosh (a term query on ``slug``) and reading each one's
    stored fields (a decompression and an unpickling) cost about 0.3 ms an article; kept
    here, the next search that looks at the article pays a dictionary lookup.  Entries
    keep deleted documents' passages (segments are immutable, deletions only grow), and
    ``of`` leaves out the ones deleted in the reader it is given."""

    def __init__(self, max_passages: int = MAX_CACHED_PASSAGES):
        self._items: OrderedDict = OrderedDict()
        self._sizes = 0
        self._lock = threading.Lock()
        self.max_passages = max_passages

    def of(self, searcher, slug: str) -> list[StoredPassage]:
        """The article's live passages in document order (its own article document left out)."""
        found: list[StoredPassage] = []
        for leaf, _ in segment_leaves(searcher.reader()):
            entry = self._entry(leaf, slug)
            if entry and leaf.has_deletions():
                found.extend(passage for local, passage in entry if not leaf.is_deleted(local))
            else:
                found.extend(passage for _, passage in entry)
        return found

    def find(self, searcher, slug: str, passage_id: str) -> dict | None:
        """One passage of the article by its id (the semantic side names passages by id)."""
        return next((p.passage for p in self.of(searcher, slug) if p.passage["id"] == passage_id), None)

    def _entry(self, leaf, slug: str) -> tuple[tuple[int, StoredPassage], ...]:
        key = (leaf.segment().segment_id(), slug)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        entry = []
        if ("slug", slug) in leaf:
            for local in leaf.postings("slug", slug).all_ids():
                stored = leaf.stored_fields(local).get("passage")
                if stored is not None:
                    entry.append((local, StoredPassage.of(stored)))
        found = tuple(entry)
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self._sizes += max(1, len(found))
            while self._sizes > self.max_passages and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._sizes -= max(1, len(dropped))
        return found

    def forget_except(self, segment_ids: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] not in segment_ids]:
                self._sizes -= max(1, len(self._items.pop(key)))


class FilterMasks:
    """(segment, filter terms) -> which of the segment's documents have all those terms.

    A filter ("published, public, this category") is the same documents of a segment for
    as long as the segment lives; only deletions change, and they are applied by the
    caller.  Computed from the terms' posting lists (kb.search.bm25), so a new searcher
    after an update pays for the new small segment only, not for the whole index again."""

    def __init__(self) -> None:
        self._masks: dict[tuple, np.ndarray] = {}
        self._lock = threading.Lock()

    def mask(self, leaf, terms: tuple[tuple[str, str], ...], postings: PostingsCache) -> np.ndarray:
        key = (leaf.segment().segment_id(), terms)
        found = self._masks.get(key)
        if found is None:
            found = np.ones(leaf.doc_count_all(), dtype=bool)
            for field_name, value in terms:
                has = np.zeros(leaf.doc_count_all(), dtype=bool)
                ids, _ = postings.postings(leaf, field_name, value)
                has[ids] = True
                found &= has
            with self._lock:
                self._masks[key] = found
        return found

    def forget_except(self, segment_ids: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._masks if k[0] not in segment_ids]:
                del self._masks[key]


def allowed_mask(reader, terms: tuple[tuple[str, str], ...], masks: FilterMasks, postings: PostingsCache) -> np.ndarray:
    """Over the reader's document numbers: documents with all the terms, not deleted."""
    parts = []
    for leaf, _ in segment_leaves(reader):
        part = masks.mask(leaf, terms, postings)
        if leaf.has_deletions():
            part = part.copy()
            deleted = np.fromiter(leaf.segment().deleted_docs(), dtype=np.int64)
            part[deleted[deleted < len(part)]] = False
        parts.append(part)
    return np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.zeros(0, dtype=bool))


@dataclass
class SegmentCaches:
    postings: PostingsCache = field(default_factory=PostingsCache)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    passages: ArticlePassages = field(default_factory=ArticlePassages)
    filters: FilterMasks = field(default_factory=FilterMasks)

    def keep_only(self, reader) -> None:
        """Forget what was read from segments this reader no longer has (merged away)."""
        live = {leaf.segment().segment_id() for leaf, _ in segment_leaves(reader)}
        self.postings.forget_except(live)
        self.vocabulary.forget_except(live)
        self.passages.forget_except(live)
        self.filters.forget_except(live)

"""What a search reads from the immutable Whoosh segments, kept once for every thread.

A Whoosh segment never changes after it is written (an update adds a segment and marks
deletions), so whatever is read from one can be kept for as long as it exists: posting
lists (``kb.search.bm25.PostingsCache``), vocabularies for typo lookups
(``kb.search.vocabulary.Vocabulary``) and the stored passages of the articles a search
puts on its first page (:class:`PassageCache`).  ``KnowledgeBase`` owns one
:class:`SegmentCaches` and tells it which segments are still live when the index changes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections import OrderedDict
from dataclasses import dataclass
from dataclasses import field

import numpy as np

from kb.search.bm25 import PostingsCache
from kb.search.vocabulary import Vocabulary

# Stored passages kept (about 3 KB each with their parsed terms): the articles that keep
# coming back on first pages.
MAX_CACHED_PASSAGES = 4096


@dataclass(frozen=True)
class StoredPassage:
    """A passage document's stored ``passage`` field, its index terms in order and counted."""

    passage: dict
    terms: list[str]
    counts: Counter


class PassageCache:
    """(segment, document) -> StoredPassage, bounded LRU.

    Reading a stored document costs Whoosh a decompression and an unpickling (about 15 µs),
    and splitting and counting its terms as much again, for each of the 60-90 passages of
    the ten articles a search looks at."""

    def __init__(self, max_passages: int = MAX_CACHED_PASSAGES):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.max_passages = max_passages

    def get(self, searcher, docnum: int) -> StoredPassage | None:
        """The passage stored in global document docnum of this searcher (None: an article document)."""
        leaf, local = _leaf_of(searcher.reader(), docnum)
        key = (leaf.segment().segment_id(), local)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        passage = searcher.stored_fields(docnum).get("passage")
        terms = passage["terms"].split() if passage else []
        found = StoredPassage(passage, terms, Counter(terms)) if passage else None
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.max_passages:
                self._items.popitem(last=False)
        return found

    def forget_except(self, segment_ids: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] not in segment_ids]:
                del self._items[key]


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
    for leaf, _ in reader.leaf_readers():
        part = masks.mask(leaf, terms, postings)
        if leaf.has_deletions():
            part = part.copy()
            deleted = np.fromiter(leaf.segment().deleted_docs(), dtype=np.int64)
            part[deleted[deleted < len(part)]] = False
        parts.append(part)
    return np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.zeros(0, dtype=bool))


def _leaf_of(reader, docnum: int):
    """The segment reader holding a global document number, and the number within it."""
    leaves = reader.leaf_readers()
    if len(leaves) == 1:
        return leaves[0][0], docnum - leaves[0][1]
    for leaf, offset in reversed(leaves):
        if docnum >= offset:
            return leaf, docnum - offset
    raise IndexError(docnum)


@dataclass
class SegmentCaches:
    postings: PostingsCache = field(default_factory=PostingsCache)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    passages: PassageCache = field(default_factory=PassageCache)
    filters: FilterMasks = field(default_factory=FilterMasks)

    def keep_only(self, reader) -> None:
        """Forget what was read from segments this reader no longer has (merged away)."""
        live = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
        self.postings.forget_except(live)
        self.vocabulary.forget_except(live)
        self.passages.forget_except(live)
        self.filters.forget_except(live)

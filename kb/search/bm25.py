"""Term-at-a-time BM25F over the Whoosh index, with numpy.

Whoosh scores an OR query document by document through a tree of matchers in pure
Python: at 10k articles a customer's question touches tens of thousands of postings and
takes 50-100 ms.  Here each (field, word) posting list is read once from the index (through
Whoosh's public reader API, so deletions are respected) and kept as numpy arrays; scoring
a query is then a few vector operations.  The formula is Whoosh's own BM25F
(idf = log(N / (df + 1)) + 1, per-field length normalization, query boosts summed over
fields), so rankings match ``searcher.search`` on the same query.

The arrays are cached per index segment (Whoosh segments are immutable; an update adds a
segment and marks deletions).  Deleted documents keep their postings in the cache and are
excluded by the allowed-documents mask, which is computed per searcher.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from kb.search.leaves import segment_leaves

_MAX_CACHED_LISTS = 20_000
# A common word's list at 10k articles holds thousands of postings (12 bytes each): bound
# the memory, not only the number of lists.
_MAX_CACHED_BYTES = 96 * 1024 * 1024


class PostingsCache:
    """(segment, field, term) -> (doc ids, term frequencies); LRU bounded in lists and bytes."""

    def __init__(self, max_lists: int = _MAX_CACHED_LISTS, max_bytes: int = _MAX_CACHED_BYTES):
        self._lists: OrderedDict = OrderedDict()
        self._lengths: dict = {}
        self._lock = threading.Lock()
        self.max_lists = max_lists
        self.max_bytes = max_bytes
        self.nbytes = 0

    def postings(self, leaf, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        key = (leaf.segment().segment_id(), field, term)
        with self._lock:
            found = self._lists.get(key)
            if found is not None:
                self._lists.move_to_end(key)
                return found
        ids: list[int] = []
        weights: list[float] = []
        if (field, term) in leaf:
            matcher = leaf.postings(field, term)
            # Segments never change but for deletions; deleted documents keep their postings
            # here and are masked out by the caller's allowed-documents mask.
            matcher = getattr(matcher, "child", matcher) if type(matcher).__name__ == "FilterMatcher" else matcher
            if not _read_blocks(matcher, ids, weights):
                while matcher.is_active():
                    ids.append(matcher.id())
                    weights.append(matcher.weight())
                    matcher.next()
        found = (np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32))
        with self._lock:
            if key not in self._lists:
                self._lists[key] = found
                self.nbytes += found[0].nbytes + found[1].nbytes
            while len(self._lists) > self.max_lists or (self.nbytes > self.max_bytes and len(self._lists) > 1):
                _, (ids_, weights_) = self._lists.popitem(last=False)
                self.nbytes -= ids_.nbytes + weights_.nbytes
        return found

    def forget_except(self, segment_ids: set[str]) -> None:
        """Drop the lists and lengths of segments no longer in the index (merged away)."""
        with self._lock:
            for key in [k for k in self._lists if k[0] not in segment_ids]:
                ids, weights = self._lists.pop(key)
                self.nbytes -= ids.nbytes + weights.nbytes
            for key in [k for k in self._lengths if k[0] not in segment_ids]:
                del self._lengths[key]

    def lengths(self, leaf, field: str) -> np.ndarray:
        """Field length of every document of a segment (0 for documents without the field)."""
        key = (leaf.segment().segment_id(), field)
        found = self._lengths.get(key)
        if found is None:
            found = np.fromiter(
                (leaf.doc_field_length(d, field, 0) for d in range(leaf.doc_count_all())),
                dtype=np.float32, count=leaf.doc_count_all(),
            )
            with self._lock:
                self._lengths[key] = found
        return found


def _read_blocks(matcher, ids: list[int], weights: list[float]) -> bool:
    """Read a Whoosh 2.7 on-disk posting list a block at a time (10x faster than a posting
    at a time).  Relies on W3LeafMatcher internals, so anything unexpected (a wrapped
    matcher for a segment with deletions, another codec) returns False: use the public API.
    """
    if type(matcher).__name__ != "W3LeafMatcher" or not hasattr(matcher, "_read_ids"):
        return False
    try:
        while True:
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if matcher._lastblock:
                return True
            matcher._next_block()
    except (AttributeError, TypeError):
        ids.clear()
        weights.clear()
        matcher.reset()
        return False


def bm25f_scores(searcher, clauses: list[tuple[str, str, float]], cache: PostingsCache,
                 k1: float, b: float) -> np.ndarray:
    """Scores of every document (by global doc number) for an OR of weighted (field, term) clauses."""
    reader = searcher.reader()
    total = reader.doc_count_all()
    scores = np.zeros(total, dtype=np.float32)
    doc_count = max(1, searcher.doc_count_all())
    averages: dict[str, float] = {}
    for field, term, boost in clauses:
        # The reader's answer, as the searcher's, but kb's searcher keeps it for its index
        # state (kb.search.keyword_searcher.FrequencyCachingReader) instead of a term-table lookup in
        # Whoosh per clause; the average field length once a field, not once a clause
        # (search_articles 0.52 -> 0.30 ms a request over bench_api's 1k messages).
        frequency = reader.doc_frequency(field, term)
        if not frequency:
            continue
        idf = math.log(doc_count / (frequency + 1)) + 1
        average = averages.get(field)
        if average is None:
            average = averages[field] = searcher.avg_field_length(field) or 1.0
        for leaf, offset in segment_leaves(reader):
            ids, tf = cache.postings(leaf, field, term)
            if not len(ids):
                continue
            lengths = cache.lengths(leaf, field)[ids]
            part = idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / average))
            scores[ids + offset] += boost * part
    return scores


def top_documents(scores: np.ndarray, allowed: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """(doc number, score) of the best `limit` allowed documents with a positive score."""
    masked = np.where(allowed[: len(scores)], scores, 0.0)
    candidates = np.flatnonzero(masked > 0)
    if not len(candidates):
        return []
    if len(candidates) > limit:
        best = np.argpartition(-masked[candidates], limit - 1)[:limit]
        candidates = candidates[best]
    order = sorted(candidates.tolist(), key=lambda d: (-float(masked[d]), d))
    return [(d, float(masked[d])) for d in order]

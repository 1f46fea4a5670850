"""The semantic side: a faiss index of passage vectors with an id map back to passages.

Exact inner-product search (``IndexIDMap2`` over ``IndexFlatIP``) by default: about 1 ms
at 10k vectors here, and exact.  Above ``ann_threshold`` vectors a rebuild uses an IVF
index with a hash-table direct map instead (HNSW cannot remove vectors; IVF can).
faiss searches are thread-safe, changes are not: every search holds the index's read
lock and every change its write lock, so a live index can take an article's new vectors
while other threads search it.

An article's "about" vector (its title, summary and tags: ``kb.search.passages.about_text``)
is stored with its passages, so snapshots, the journal and re-embedding carry it as they
carry passages, but it is no passage: the nearest-passage searches skip it, and
:meth:`VectorIndex.about_cosines` scores it for the articles a search already found.

A snapshot is one file (a JSON header with the id map, then the serialized faiss index),
written atomically, so the id map and the vectors can never disagree.  Changes after the
snapshot go to a journal beside it (``kb.search.vector_files``).
"""

from __future__ import annotations

import json
import logging
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from kb.fsutil import atomic_writer
from kb.search.rwlock import ReadWriteLock
from kb.search.passages import is_about

logger = logging.getLogger(__name__)

FILE_NAME = "vectors.bin"
_MAGIC = b"KBVEC1\n"


@dataclass(frozen=True)
class VectorEntry:
    passage_id: str
    slug: str


class VectorIndex:
    def __init__(self, dim: int, fingerprint: str, index=None, entries: dict[int, VectorEntry] | None = None, next_id: int = 0):
        self.dim = dim
        self.fingerprint = fingerprint
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.entries: dict[int, VectorEntry] = entries or {}
        self.next_id = next_id
        self._by_slug: dict[str, list[int]] = {}
        # vector id -> article number (-1: removed), so the best passage of each article
        # among thousands of nearest passages is found with numpy, not a Python loop.
        self._owner = np.full(max(16, next_id), -1, dtype=np.int32)
        self._article_numbers: dict[str, int] = {}
        self._article_slugs: list[str] = []
        self._about: dict[str, np.ndarray] = {}  # slug -> its about vector (kept in memory: one per article)
        # Read without the lock by every search, rebuilt (under the read lock) after a change:
        # see count_of and about_cosines.
        self._counts: dict[str, int] | None = None
        self._about_matrix: tuple[dict[str, int], np.ndarray] | None = None
        for vid, entry in self.entries.items():
            self._by_slug.setdefault(entry.slug, []).append(vid)
            if is_about(entry.passage_id):
                self._about[entry.slug] = np.asarray(self.index.reconstruct(int(vid)), dtype=np.float32)
            else:
                self._own(vid, entry.slug)
        self._lock = ReadWriteLock()

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def kind(self) -> str:
        return "ivf" if "IVF" in type(faiss.downcast_index(self.index)).__name__ else "flat"

    def slugs(self) -> set[str]:
        with self._lock.reading():
            return set(self._by_slug)

    @property
    def article_count(self) -> int:
        return len(self._by_slug)

    def count_of(self, slug: str) -> int:
        """How many vectors the article has (0: none yet).

        A search asks this for each of the hundred articles the keyword side found, and taking
        the read lock each time cost 0.23 ms a request: the counts are a snapshot made under the
        lock after each change and replaced, never changed, so a search reads the counts from
        before a change or from after it, as it would have with the lock."""
        counts = self._counts
        if counts is None:
            with self._lock.reading():
                counts = self._counts = {slug: len(ids) for slug, ids in self._by_slug.items()}
        return counts.get(slug, 0)

    def add(self, slug: str, passage_ids: list[str], vectors: np.ndarray) -> None:
        with self._lock.writing():
            self._add(slug, passage_ids, vectors)

    def remove(self, slug: str) -> int:
        """Remove every vector of one article; returns how many were removed."""
        with self._lock.writing():
            return self._remove(slug)

    def replace(self, changes: list[tuple[str, list[str], np.ndarray]]) -> None:
        """Give each listed article exactly these vectors (none: the article is gone), as one change.

        Replaying the same change twice gives the same index, so a journal record that was
        already folded into a snapshot does no harm when applied again."""
        with self._lock.writing():
            for slug, passage_ids, vectors in changes:
                self._remove(slug)
                self._add(slug, passage_ids, vectors)

    def _add(self, slug: str, passage_ids: list[str], vectors: np.ndarray) -> None:
        if not passage_ids:
            return
        self._counts = self._about_matrix = None
        ids = np.arange(self.next_id, self.next_id + len(passage_ids), dtype=np.int64)
        self.next_id += len(passage_ids)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        for row, (vid, pid) in enumerate(zip(ids.tolist(), passage_ids)):
            self.entries[vid] = VectorEntry(pid, slug)
            self._by_slug.setdefault(slug, []).append(vid)
            if is_about(pid):
                self._about[slug] = np.asarray(vectors[row], dtype=np.float32)
            else:
                self._own(vid, slug)

    def _own(self, vid: int, slug: str) -> None:
        number = self._article_numbers.get(slug)
        if number is None:
            number = self._article_numbers[slug] = len(self._article_slugs)
            self._article_slugs.append(slug)
        if vid >= len(self._owner):
            grown = np.full(max(vid + 1, 2 * len(self._owner)), -1, dtype=np.int32)
            grown[: len(self._owner)] = self._owner
            self._owner = grown
        self._owner[vid] = number

    def _remove(self, slug: str) -> int:
        self._counts = self._about_matrix = None
        self._about.pop(slug, None)
        ids = self._by_slug.pop(slug, [])
        if ids:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))
            for vid in ids:
                self.entries.pop(vid, None)
            self._owner[np.asarray(ids, dtype=np.int64)] = -1
        return len(ids)

    def search(self, query: np.ndarray, k: int) -> list[tuple[VectorEntry, float]]:
        """The k nearest passages (inner product = cosine on normalized vectors), best first."""
        with self._lock.reading():
            if len(self) == 0 or k <= 0:
                return []
            scores, ids = search_one_thread(self.index, query, min(k, len(self)))
            entries = self.entries
            found = [(entries[int(i)], float(s)) for s, i in zip(scores[0], ids[0]) if i != -1 and int(i) in entries]
            return [(entry, score) for entry, score in found if not is_about(entry.passage_id)]

    def nearest_articles(self, query: np.ndarray, k: int) -> Iterator[tuple[str, str, float]]:
        """(slug, best passage id, its cosine) of every article among the k nearest
        passages, best first: each article once, by its best passage.  Lazy, so a caller
        that needs only the first few articles pays only for those."""
        with self._lock.reading():
            if len(self) == 0 or k <= 0:
                return
            scores, ids = search_one_thread(self.index, query, min(k, len(self)))
            ids, scores = ids[0], scores[0]
            ids, scores = ids[ids >= 0], scores[ids >= 0]
            owners = self._owner[ids]
            live = owners >= 0
            ids, scores, owners = ids[live], scores[live], owners[live]
            first = _first_positions(owners, len(self._article_slugs))  # results are best first
        slugs, entries = self._article_slugs, self.entries
        for i in first.tolist():
            entry = entries.get(int(ids[i]))  # None: removed since the search
            if entry is not None:
                yield slugs[owners[i]], entry.passage_id, float(scores[i])

    def about_cosines(self, query: np.ndarray, slugs) -> dict[str, float]:
        """The cosine of the query with the about vector of each of `slugs` that has one."""
        with self._lock.reading():
            if self._about_matrix is None:
                # Every about vector in one matrix, once a change: picking a hundred rows out of
                # it is a third of stacking them anew each search (the same rows, same product).
                self._about_matrix = ({slug: row for row, slug in enumerate(self._about)},
                                      np.vstack(list(self._about.values())) if self._about else np.zeros((0, self.dim), np.float32))
            rows, about = self._about_matrix
            held = [slug for slug in slugs if slug in rows]
            if not held:
                return {}
            matrix = about[[rows[slug] for slug in held]]
        scores = matrix @ np.asarray(query, dtype=np.float32).reshape(-1)
        return dict(zip(held, scores.tolist()))

    def items(self) -> list[tuple[str, list[str], np.ndarray]]:
        """Everything held, as (slug, passage ids, vectors): what build_vector_index takes."""
        with self._lock.reading():
            return [
                (slug, [self.entries[vid].passage_id for vid in self._by_slug[slug]], self._vectors_of(slug))
                for slug in sorted(self._by_slug)
            ]

    def vectors_of(self, slug: str) -> np.ndarray:
        with self._lock.reading():
            return self._vectors_of(slug)

    def _vectors_of(self, slug: str) -> np.ndarray:
        ids = self._by_slug.get(slug, [])
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(i)) for i in ids])

    # -- persistence ---------------------------------------------------------------------

    def save(self, directory: Path, name: str = FILE_NAME) -> None:
        """Write the snapshot atomically, streaming the faiss index into the file (no copy
        of the 120 MB of vectors a 10k-article index holds)."""
        with self._lock.reading():
            header = json.dumps(
                {
                    "dim": self.dim,
                    "fingerprint": self.fingerprint,
                    "next_id": self.next_id,
                    "entries": {str(k): [v.passage_id, v.slug] for k, v in self.entries.items()},
                },
                ensure_ascii=False,
            ).encode("utf-8")
            with atomic_writer(Path(directory) / name) as handle:
                handle.write(_MAGIC + struct.pack("<Q", len(header)) + header)
                faiss.write_index(self.index, faiss.PyCallbackIOWriter(handle.write))

    @classmethod
    def load(cls, directory: Path, name: str = FILE_NAME) -> VectorIndex | None:
        """Read a snapshot (None if there is none); the faiss index streams from the file."""
        path = Path(directory) / name
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return None
        with handle:
            if handle.read(len(_MAGIC)) != _MAGIC:
                raise ValueError(f"{path} is not a kb vector file")
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
            index = faiss.read_index(faiss.PyCallbackIOReader(handle.read))
        entries = {int(k): VectorEntry(v[0], v[1]) for k, v in header["entries"].items()}
        return cls(header["dim"], header["fingerprint"], index, entries, header["next_id"])


def _first_positions(owners: np.ndarray, owner_count: int) -> np.ndarray:
    """The position of each owner's first occurrence in `owners`, in order: what
    ``np.unique(owners, return_index=True)`` gives once sorted, without its stable sort
    (12 µs instead of 93 for the 1,780 nearest passages of a 1k-article search)."""
    first = np.full(owner_count, len(owners), dtype=np.int64)
    np.minimum.at(first, owners, np.arange(len(owners)))
    first = first[first < len(owners)]
    first.sort()
    return first


def search_one_thread(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``index.search`` of one query vector on the calling thread's OpenMP team of one.

    One query is searched on one thread whatever the team size, but ``IndexIDMap2`` maps the
    ids back in an OpenMP loop: with faiss's default team of two, waking the second thread
    on this shared 2-core machine made a search of 8,922 vectors take 4-7 ms instead of
    0.5-0.7 ms (k 10 and 1,780; the same ids and scores), and that thread then spins on a
    core the model needs.  The count is the calling thread's own (an OpenMP ICV, in
    faiss's own runtime, not the model's) and is put back, so index builds keep every core.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
    finally:
        faiss.omp_set_num_threads(threads)


# IVF shape, chosen with scripts/bench_ann.py on real passage vectors and questions: lists
# of about sqrt(N) vectors each, and a quarter of them searched.
NLIST_FACTOR = 1.0


def ivf_nprobe(nlist: int) -> int:
    """Lists searched per query: enough for recall@10 of about 0.95 against exact search."""
    return max(1, min(nlist, max(16, nlist // 4)))


def build_vector_index(dim: int, fingerprint: str, items: list[tuple[str, list[str], np.ndarray]],
                       ann_threshold: int, nprobe: int | None = None, nlist_factor: float = NLIST_FACTOR) -> VectorIndex:
    """A new index holding all items ((slug, passage ids, vectors)); IVF above ann_threshold."""
    total = sum(len(ids) for _, ids, _ in items)
    index = None
    if total > ann_threshold:
        nlist = max(1, int(nlist_factor * math.sqrt(total)))
        nprobe = nprobe or ivf_nprobe(nlist)
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        training = np.vstack([v for _, _, v in items])
        ivf.train(training)
        ivf.nprobe = nprobe
        # No own_fields = True: faiss's Python wrapper already keeps the quantizer alive with
        # the index (add_ref_in_constructor), and both owning it freed it twice (a segfault).
        index = ivf
    vectors = VectorIndex(dim, fingerprint, index)
    for slug, ids, matrix in items:
        vectors.add(slug, ids, matrix)
    return vectors


def fit_vector_index(vectors: VectorIndex, ann_threshold: int) -> VectorIndex:
    """The same vectors in the kind of index their number calls for: exact up to
    ann_threshold, IVF above.  An index that grew (or shrank) across the threshold through
    updates is rebuilt from its own vectors, without embedding anything."""
    if (len(vectors) > ann_threshold) == (vectors.kind == "ivf"):
        return vectors
    logger.info("%d vectors: rebuilding the vector index as %s", len(vectors), "IVF" if len(vectors) > ann_threshold else "exact")
    return build_vector_index(vectors.dim, vectors.fingerprint, vectors.items(), ann_threshold)

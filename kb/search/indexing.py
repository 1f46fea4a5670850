"""Building and updating the indexes: the write side of ``KnowledgeBase``.

Everything here runs under the store's writer lock.  Order of a change: Whoosh commit,
then one record appended to the vector journal, then the manifest (written last,
atomically, naming the journal bytes it commits): readers reload when the manifest
changes, and ``kb index`` can always compare the manifest with ``articles/`` and repair
whatever a crash left behind (or ``kb index --full`` rebuilds from the articles).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Callable

import numpy as np

from kb.content.articles import Article
from kb.errors import KbError
from kb.fsutil import atomic_write_json
from kb.fsutil import fsync_files
from kb.search import keyword
from kb.search import keyword_index
from kb.search.article_terms import article_key
from kb.search.article_terms import store_packed
from kb.search.cache import EmbeddingCache
from kb.search.cache import text_hash
from kb.search.embed import Embedder
from kb.search.embed import latent_terms
from kb.search.passages import Passage
from kb.search.passages import about_id
from kb.search.passages import about_text
from kb.search.passages import article_passages
from kb.search.passages import is_about
from kb.search.passages import split_words
from kb.search.store import SCHEMA_VERSION
from kb.search.vector import VectorIndex
from kb.search.vector import build_vector_index
from kb.search.vector import fit_vector_index
from kb.search.vector_files import Change
from kb.search.vector_files import VectorFiles

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# e5 models see at most 512 tokens; Arabic runs ~1.6 tokens a word, so 220 words with a
# 40-word overlap keeps every chunk (title and headings included) inside the limit.
CHUNK_WORDS = 220
CHUNK_OVERLAP = 40


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class Manifest:
    schema_version: int = SCHEMA_VERSION
    analyzer_version: int = keyword.ANALYZER_VERSION
    embedder: str | None = None
    embedder_fingerprint: str | None = None
    semantic_error: str | None = None
    built_at: str = ""
    updated_at: str = ""
    articles: dict[str, dict] = field(default_factory=dict)  # slug -> {path, checksum, passages, vectors}
    vectors: int = 0
    vector_snapshot: str = ""  # the generation's vector snapshot file ...
    vector_journal_bytes: int = 0  # ... and how much of its journal is committed
    # Articles added or changed while the model was unavailable: keyword-indexed, no vectors yet.
    pending_vectors: list[str] = field(default_factory=list)
    vector_kind: str = ""  # "flat" or "ivf": lets an update tell whether to refit without loading the vectors
    # The "no answer" threshold measured for these articles and this model (kb.search.calibration).
    answer_calibration: dict = field(default_factory=dict)

    @property
    def passages(self) -> int:
        return sum(a.get("passages", 0) for a in self.articles.values())

    @property
    def never_embedded(self) -> bool:
        """Articles indexed without any vectors yet (a server's first start leaves them to the
        vector worker, kb.indexer; or kb index ran without the model)."""
        return bool(self.articles) and not self.vector_snapshot and self.embedder_fingerprint is None

    def vector_files(self, generation: Path) -> VectorFiles:
        return VectorFiles(generation, self.vector_snapshot, self.vector_journal_bytes)

    def set_vector_files(self, files: VectorFiles) -> None:
        self.vector_snapshot, self.vector_journal_bytes = files.snapshot, files.journal_bytes

    def save(self, generation: Path) -> None:
        self.updated_at = _now()
        atomic_write_json(generation / "manifest.json", self.__dict__)

    @classmethod
    def load(cls, generation: Path) -> Manifest | None:
        try:
            data = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def passage_chunks(article: Article, passages: list[Passage]) -> list[tuple[str, str]]:
    """(passage id, text) of every chunk the model reads for these passages, in order."""
    return [(passage.id, text) for passage in passages for text in embedding_texts(article, passage)]


def embedding_texts(article: Article, passage: Passage) -> list[str]:
    """What the model reads for a passage: title + heading path + text, cut to fit the model.

    A text that only repeats its title (a stored question whose body is the question) is
    embedded once: the doubled text pulls the vector away from the question's meaning
    (nDCG@10 on nsurl_q2q, dense alone: 0.873 doubled, 0.876 once).
    """
    prefix = " › ".join([article.title, *passage.heading_path])
    if passage.kind == "faq":
        return [f"{passage.heading}\n{passage.text}"]
    if " ".join(passage.text.split()) == " ".join(prefix.split()):
        return [prefix]
    return [f"{prefix}\n{chunk}" for chunk in split_words(passage.text, CHUNK_WORDS, CHUNK_OVERLAP)] or [prefix]


class VectorWork:
    """Embeds the chunks of many articles at once, reusing cached vectors."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache, progress: Progress):
        self.embedder = embedder
        self.cache = cache
        self.progress = progress
        self._terms = latent_terms(embedder)

    @staticmethod
    def _plan(items: list[tuple[Article, list[Passage]]]) -> list[tuple[str, list[str], list[str], list[str]]]:
        """(slug, chunk passage ids, chunk texts, their hashes) for each article."""
        plan = []
        for article, passages in items:
            chunks = passage_chunks(article, passages)
            ids, texts = [passage_id for passage_id, _ in chunks], [text for _, text in chunks]
            about = about_text(article)
            if about is not None:
                ids.append(about_id(article.slug))
                texts.append(about)
            plan.append((article.slug, ids, texts, [text_hash(t) for t in texts]))
        return plan

    def _stack(self, hashes: list[str], known: dict[str, np.ndarray]) -> np.ndarray:
        return np.vstack([known[h] for h in hashes]) if hashes else np.zeros((0, self.embedder.dim), np.float32)

    def embed(self, items: list[tuple[Article, list[Passage]]]) -> list[Change]:
        """(slug, chunk passage ids, vectors) for each article; only uncached texts hit the model.
        The passages' latent terms go to the cache too (the search reads them there)."""
        plan = self._plan(items)
        all_hashes = list(dict.fromkeys(h for *_, hashes in plan for h in hashes))
        known = self.cache.get_many(all_hashes)
        missing = {h: t for _, _, texts, hashes in plan for t, h in zip(texts, hashes) if h not in known}
        self._embed_missing(missing, known)
        self._latent_missing(plan)
        self._pack_latent(items, plan)
        return [(slug, ids, self._stack(hashes, known)) for slug, ids, _, hashes in plan]

    def cached(self, items: list[tuple[Article, list[Passage]]]) -> tuple[list[Change], list[str]]:
        """The vectors of the articles whose every chunk is cached (nothing reaches the
        model: a publish may take them inside its request), and the slugs of the others
        (their latent terms count: an article whose vectors are cached but not its terms
        is embedded by the vector worker with the rest)."""
        plan = self._plan(items)
        known = self.cache.get_many(list(dict.fromkeys(h for *_, hashes in plan for h in hashes)))
        latent = set(self.cache.get_latent_many(list(dict.fromkeys(
            h for _, ids, _, hashes in plan for passage_id, h in zip(ids, hashes) if not is_about(passage_id)))))
        ready: list[Change] = []
        missing: list[str] = []
        for slug, ids, _, hashes in plan:
            has_terms = self._terms is None or all(h in latent for passage_id, h in zip(ids, hashes)
                                                   if not is_about(passage_id))
            if has_terms and all(h in known for h in hashes):
                ready.append((slug, ids, self._stack(hashes, known)))
            else:
                missing.append(slug)
        self._pack_latent(items, plan)  # an edit of the front matter only: the chunks are cached, not this text
        return ready, missing

    def fill_latent(self, items: list[tuple[Article, list[Passage]]]) -> None:
        """Latent terms for every chunk of these articles that has none in the cache: an index
        built before the terms existed gets them without re-embedding its vectors."""
        plan = self._plan(items)
        self._latent_missing(plan)
        self._pack_latent(items, plan)

    def _pack_latent(self, items: list[tuple[Article, list[Passage]]], plan) -> None:
        """Each article's chunk terms packed in one row (``kb.search.article_terms``)."""
        if self._terms is not None:
            store_packed(self.cache, [(article_key(article, CHUNK_WORDS, CHUNK_OVERLAP),
                                       [h for passage_id, h in zip(ids, hashes) if not is_about(passage_id)])
                                      for (article, _), (_, ids, _, hashes) in zip(items, plan)])

    def _latent_missing(self, plan: list[tuple[str, list[str], list[str], list[str]]]) -> None:
        """Latent terms for the passage chunks the cache lacks (not the about texts: the
        search scores passages with them, ``kb.search.latent``)."""
        if self._terms is None:
            return
        chunks = {h: t for _, ids, texts, hashes in plan
                  for passage_id, t, h in zip(ids, texts, hashes) if not is_about(passage_id)}
        known = self.cache.get_latent_many(list(chunks))
        keys = [h for h in chunks if h not in known]
        total = len(keys)
        batch = max(1, getattr(self.embedder, "batch_size", 32))
        for start in range(0, total, batch):
            chunk = keys[start:start + batch]
            self.cache.put_latent_many(dict(zip(chunk, self._terms([chunks[k] for k in chunk]))))
            self.progress("latent terms", min(total, start + batch), total)

    def _embed_missing(self, missing: dict[str, str], known: dict[str, np.ndarray]) -> None:
        keys = list(missing)
        total = len(keys)
        self.progress("embed", 0, total)
        batch = max(1, getattr(self.embedder, "batch_size", 32))
        for start in range(0, total, batch):
            chunk = keys[start:start + batch]
            vectors = self.embedder.embed_passages([missing[k] for k in chunk])
            fresh = dict(zip(chunk, vectors))
            self.cache.put_many(fresh)
            known.update(fresh)
            self.progress("embed", min(total, start + batch), total)


def build_generation(generation: Path, articles_dir: Path, articles: list[Article], embedder: Embedder | None,
                     cache: EmbeddingCache | None, ann_threshold: int, semantic_error: str | None,
                     progress: Progress = _no_progress) -> Manifest:
    """Write a complete index (Whoosh + vectors + manifest) for these articles into generation."""
    started = time.monotonic()
    items = [(article, article_passages(article)) for article in articles]
    ix = keyword_index.create_index(generation / "whoosh")
    writer = ix.writer(limitmb=256)
    try:
        for done, (article, passages) in enumerate(items, 1):
            for document in keyword_index.article_documents(article, passages):
                writer.add_document(**document)
            if done % 200 == 0 or done == len(items):
                progress("keyword", done, len(items))
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    fsync_files(generation / "whoosh")
    manifest = Manifest(built_at=_now(), semantic_error=semantic_error)
    if embedder is not None and cache is not None:
        embedded = VectorWork(embedder, cache, progress).embed(items)
        vectors = build_vector_index(embedder.dim, embedder.fingerprint, embedded, ann_threshold)
        manifest.set_vector_files(VectorFiles.first(generation, vectors))
        manifest.embedder = embedder.name
        manifest.embedder_fingerprint = embedder.fingerprint
        manifest.vectors, manifest.vector_kind = len(vectors), vectors.kind
        counts = {slug: len(ids) for slug, ids, _ in embedded}
    else:
        counts = {}
    manifest.articles = {a.slug: _manifest_entry(articles_dir, a, p, counts.get(a.slug, 0)) for a, p in items}
    manifest.save(generation)
    logger.info("built %d articles in %.1f s", len(items), time.monotonic() - started)
    return manifest


def _manifest_entry(articles_dir: Path, article: Article, passages: list[Passage], vectors: int) -> dict:
    """Paths are stored relative to the articles folder, so a copied or moved index still finds its files."""
    path = article.path
    stored = path.relative_to(articles_dir).as_posix() if path.is_relative_to(articles_dir) else str(path)
    return {"path": stored, "checksum": article.checksum, "passages": len(passages), "vectors": vectors}


def manifest_article_path(articles_dir: Path, entry: dict) -> Path:
    """The article file a manifest entry points at (older manifests stored absolute paths)."""
    return articles_dir / entry["path"]


def apply_changes(generation: Path, articles_dir: Path, manifest: Manifest, upserts: list[Article], deletes: list[str],
                  embedder: Embedder | None, cache: EmbeddingCache | None, ann_threshold: int,
                  progress: Progress = _no_progress, defer_vectors: bool = False) -> Manifest:
    """Update the live generation for some changed and some removed articles only.

    With `defer_vectors` (a publish, the watcher) nothing reaches the model here: articles
    whose every chunk is in the embedding cache get their vectors at once, the others are
    keyword-indexed now and listed in ``pending_vectors`` (their old vectors dropped, so
    semantic search never answers with text that is gone) until
    :func:`attach_vectors` adds them.  The vector index also changes kind here when its
    size crosses ann_threshold."""
    items = [(article, article_passages(article)) for article in upserts]
    ix = keyword_index.open_index(generation / "whoosh")
    writer = ix.writer(timeout=30.0)
    try:
        keyword_index.write_articles(writer, items, deletes)
        writer.commit()  # merges small segments (Whoosh MERGE_SMALL): one per publish would pile up
    except BaseException:
        writer.cancel()
        raise
    fsync_files(generation / "whoosh")  # Whoosh itself never fsyncs: a power loss could lose the commit
    pending = set(manifest.pending_vectors) - set(deletes)
    counts: dict[str, int] = {}
    if manifest.embedder_fingerprint:
        nothing = np.zeros((0, 0), dtype=np.float32)  # an article with no vectors left
        changes: list[Change] = [(slug, [], nothing) for slug in deletes]
        if embedder is not None and cache is not None and manifest.embedder_fingerprint == embedder.fingerprint:
            work = VectorWork(embedder, cache, progress)
            if defer_vectors:
                ready, later = work.cached(items)
            else:
                ready, later = work.embed(items), []
            changes += ready + [(slug, [], nothing) for slug in later]
            pending = (pending - {slug for slug, _, _ in ready}) | set(later)
        else:
            # Without the model (or with another model than the index's): keep every other
            # article's vectors, drop the outdated ones, and remember which articles to embed
            # once the model is back (or the background re-embedding reaches them).
            changes += [(a.slug, [], nothing) for a in upserts]
            pending |= {a.slug for a in upserts}
            if upserts:
                logger.warning("embedding model unavailable: %d article(s) keyword-indexed only until their vectors "
                               "are embedded", len(pending))
        counts = {slug: len(ids) for slug, ids, _ in changes}
        _append_vectors(generation, manifest, changes, counts, ann_threshold)
    manifest.pending_vectors = sorted(pending)
    for slug in deletes:
        manifest.articles.pop(slug, None)
    for article, passages in items:
        manifest.articles[article.slug] = _manifest_entry(articles_dir, article, passages, counts.get(article.slug, 0))
    manifest.save(generation)
    return manifest


def _append_vectors(generation: Path, manifest: Manifest, changes: list[Change], counts: dict[str, int],
                    ann_threshold: int) -> None:
    manifest.vectors += sum(counts.values()) - sum(manifest.articles.get(s, {}).get("vectors", 0) for s in counts)
    files = manifest.vector_files(generation).append(changes)
    manifest.set_vector_files(_fold_if_due(files, manifest, ann_threshold))


@dataclass(frozen=True)
class Embedded:
    """Vectors computed outside the write lock for one article as it was read (its checksum)."""

    slug: str
    checksum: str
    passage_ids: list[str]
    vectors: np.ndarray


def attach_vectors(generation: Path, manifest: Manifest, embedded: list[Embedded], ann_threshold: int) -> list[str]:
    """Add the vectors of pending articles (embedded outside the lock); an article changed
    or deleted since it was read is skipped (its newer version is pending).  Saves the
    manifest; returns the slugs attached."""
    fresh = [e for e in embedded if e.slug in manifest.pending_vectors
             and manifest.articles.get(e.slug, {}).get("checksum") == e.checksum]
    if not fresh or not manifest.embedder_fingerprint:
        return []
    changes: list[Change] = [(e.slug, e.passage_ids, e.vectors) for e in fresh]
    counts = {e.slug: len(e.passage_ids) for e in fresh}
    _append_vectors(generation, manifest, changes, counts, ann_threshold)
    for slug, count in counts.items():
        manifest.articles[slug]["vectors"] = count
    manifest.pending_vectors = sorted(set(manifest.pending_vectors) - set(counts))
    manifest.save(generation)
    return sorted(counts)


def replace_vectors(generation: Path, manifest: Manifest, embedder: Embedder, embedded: list[Embedded],
                    ann_threshold: int) -> Manifest:
    """Swap the generation's vectors for a new model's (the background re-embedding):
    a new snapshot from `embedded` (computed outside the lock); articles changed since
    they were read, or not embedded, become pending.  Keyword data is untouched."""
    fresh = {e.slug: e for e in embedded if manifest.articles.get(e.slug, {}).get("checksum") == e.checksum}
    items = [(e.slug, e.passage_ids, e.vectors) for e in fresh.values()]
    vectors = build_vector_index(embedder.dim, embedder.fingerprint, items, ann_threshold)
    manifest.set_vector_files(manifest.vector_files(generation).write_snapshot(vectors))
    manifest.embedder, manifest.embedder_fingerprint = embedder.name, embedder.fingerprint
    manifest.vectors, manifest.vector_kind, manifest.semantic_error = len(vectors), vectors.kind, None
    for slug, entry in manifest.articles.items():
        entry["vectors"] = len(fresh[slug].passage_ids) if slug in fresh else 0
    manifest.pending_vectors = sorted(slug for slug in manifest.articles if slug not in fresh)
    manifest.save(generation)
    return manifest


def _fold_if_due(files: VectorFiles, manifest: Manifest, ann_threshold: int) -> VectorFiles:
    """Fold the journal into a new snapshot when it has grown large, or when the index must
    change kind (its size crossed ann_threshold, or the setting changed): rebuilt from its
    own vectors, nothing embedded.  Sets manifest.vector_kind; the caller saves the manifest."""
    wanted = "ivf" if manifest.vectors > ann_threshold else "flat"
    if manifest.vector_kind == wanted and not files.needs_compaction():
        return files
    vectors = files.load()
    if vectors is None:
        raise KbError("index_damaged", f"{files.snapshot_path} is missing: run 'kb index --full' to rebuild", status=503)
    fitted = fit_vector_index(vectors, ann_threshold)
    manifest.vector_kind = fitted.kind
    return files.write_snapshot(fitted)


def load_vectors(generation: Path) -> VectorIndex | None:
    """The live vectors of a generation (snapshot plus journal), as its manifest names them."""
    manifest = Manifest.load(generation)
    if manifest is None or not manifest.vector_snapshot:
        return None
    return manifest.vector_files(generation).load()


def refit_vectors(generation: Path, manifest: Manifest, ann_threshold: int) -> bool:
    """Rebuild the live vector index as the other kind if its size is now on the other side
    of ann_threshold (the setting changed); True if it did."""
    if not manifest.vector_snapshot:
        return False
    files = manifest.vector_files(generation)
    fitted = _fold_if_due(files, manifest, ann_threshold)
    if fitted == files:
        return False  # already the right kind: the vectors were not even read
    manifest.set_vector_files(fitted)
    manifest.save(generation)
    return True

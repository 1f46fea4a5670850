"""``KnowledgeBase``: the Python API that the site, the agent API, the CLI and the
benchmarks all use.  It owns the articles catalog and the indexes built from it.

Reads take a Whoosh searcher from a small pool (``kb.search.searchers``) and search the
vector index under its read lock.  Both follow the index manifest on disk, whoever changed
it (this process, ``kb index``, another server worker): Whoosh is reopened, the vectors take
the new journal records (or the new snapshot).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.content.articles import Article
from kb.content.articles import Catalog
from kb.content.articles import load_articles
from kb.content.articles import with_category_slug
from kb.content.articles import read_article_file
from kb.backfill import VectorWorker
from kb.config import Settings
from kb.config import load_settings
from kb.errors import KbError
from kb.search.hits import Hit
from kb.search.indexing import Manifest
from kb.search.indexing import Progress
from kb.search.indexing import VectorWork
from kb.search.indexing import apply_changes
from kb.search.indexing import build_generation
from kb.search.indexing import manifest_article_path
from kb.search.indexing import refit_vectors
from kb.search import keyword
from kb.search import keyword_index
from kb.search import spelling
from kb.search.cache import EmbeddingCache
from kb.search.calibration import AnswerCut
from kb.search.calibration import Calibration
from kb.search.calibration import answer_cut
from kb.search.calibration import calibrate
from kb.search.embed import Embedder
from kb.search.embed import make_embedder
from kb.search.passages import article_passages
from kb.search.languages import translation_link
from kb.search.ranking import rank_articles
from kb.search.searchers import SearcherPool
from kb.search.segments import SegmentCaches
from kb.search.snippets import make_snippet
from kb.search.store import SCHEMA_VERSION
from kb.search.store import IndexStore
from kb.search.synonyms import SynonymTable
from kb.search.synonyms import load_synonyms
from kb.search.dialect import DialectLexicon
from kb.search.dialect import LexiconFiles
from kb.search.vector import VectorIndex
from kb.translation import N_
from kb.urls import article_url

logger = logging.getLogger(__name__)

MODES = ("hybrid", "keyword", "semantic")
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass
class _ReadState:
    marker: tuple
    generation: Path | None
    index: Any  # whoosh index
    vectors: VectorIndex | None
    manifest: Manifest | None
    searchers: SearcherPool


@dataclass(frozen=True)
class IndexReport:
    """What ``kb index`` did."""

    full: bool  # a new generation was built
    added: int
    changed: int
    deleted: int
    articles: int
    passages: int
    vectors: int
    seconds: float
    semantic: str  # "on" or the reason it is off
    reason: str = ""  # why everything was rebuilt (full) or re-embedded
    pending_vectors: int = 0  # articles searchable by keyword only so far (the vector worker is on them)
    answer_threshold: float | None = None  # the calibrated "no answer" cosine (kb.search.calibration)


@dataclass(frozen=True)
class StartReport:
    """What :meth:`KnowledgeBase.start` did before serving."""

    index: IndexReport  # the reconcile (or the first build)
    removed: tuple[str, ...]  # temp files and half-built generations left by interrupted writes
    built: bool  # there was no index: built from scratch

    def summary(self) -> str:
        """What happened, in English (logs, tests); the CLI shows :meth:`summary_parts` in its language."""
        return "; ".join(self.summary_parts())

    def summary_parts(self) -> list[str]:
        """What happened, one ``kb.translation.Message`` a part."""
        r = self.index
        if self.built or r.full:
            what = N_("built the index (%(reason)s)", reason=r.reason) if r.reason else N_("built the index")
        else:
            what = N_("index reconciled with the articles folder: %(added)d added, %(changed)d changed, %(deleted)d "
                      "deleted", added=r.added, changed=r.changed, deleted=r.deleted)
        parts = [what, N_("%(articles)d articles, %(passages)d passages", articles=r.articles, passages=r.passages)]
        if r.pending_vectors:
            parts.append(N_("%(count)d article(s) searchable by keyword while their vectors are embedded",
                            count=r.pending_vectors))
        if self.removed:
            parts.append(N_("removed %(count)d file(s) left by interrupted writes", count=len(self.removed)))
        return parts


class KnowledgeBase:
    def __init__(self, articles_dir: Path | str, index_dir: Path | str, settings: Settings | None = None,
                 embedder: Embedder | None | bool = None):
        """`embedder`: an Embedder, None for the configured one (loaded lazily), False for keyword only."""
        base = settings or load_settings()
        self.settings = base.with_overrides(articles_dir=Path(articles_dir), index_dir=Path(index_dir))
        self.articles_dir = self.settings.articles_dir
        self.store = IndexStore(self.settings.index_dir)
        self._embedder = embedder if embedder not in (None, False) else None
        self._embedder_disabled = embedder is False
        self._embedder_error: str | None = "disabled" if embedder is False else None
        self._embedder_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._state: _ReadState | None = None
        self._catalog: Catalog | None = None  # read on first use: `kb index` reads the folder itself
        self._catalog_lock = threading.Lock()
        self._synonyms: tuple[float, SynonymTable] = (-1.0, SynonymTable())
        self._dialect = LexiconFiles(self.articles_dir)
        self._embedding_cache: EmbeddingCache | None = None
        self._segments = SegmentCaches()
        self.vector_worker = VectorWorker(self)
        self._model_mismatch: str | None = None  # why the live vectors cannot be used (another model made them)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None | bool = None) -> KnowledgeBase:
        return cls(settings.articles_dir, settings.index_dir, settings=settings, embedder=embedder)

    @property
    def catalog(self) -> Catalog:
        """The articles as last read from the articles folder (read on first use)."""
        if self._catalog is None:
            with self._catalog_lock:
                if self._catalog is None:
                    self._catalog = load_articles(self.articles_dir, self.settings.max_article_bytes)
        return self._catalog

    @catalog.setter
    def catalog(self, catalog: Catalog) -> None:
        self._catalog = catalog

    # -- the embedding model ---------------------------------------------------------------

    @property
    def embedder(self) -> Embedder | None:
        """The model, loaded on first use; None (with ``semantic_error`` set) if it cannot load."""
        if self._embedder is None and not self._embedder_disabled and self._embedder_error is None:
            with self._embedder_lock:
                if self._embedder is None and self._embedder_error is None:
                    try:
                        self._embedder = make_embedder(self.settings)
                    except KbError as exc:
                        self._embedder_error = exc.message
                        logger.error("semantic search is off, keyword search only: %s", exc.message,
                                     extra={"reported": True})  # kb index/serve print it in their language
        return self._embedder

    @property
    def semantic_error(self) -> str | None:
        self.embedder  # noqa: B018 - trigger the lazy load
        return self._embedder_error

    def _cache(self, embedder: Embedder | None) -> EmbeddingCache | None:
        """The embedding cache of this model (one connection, kept; writers hold the lock)."""
        if embedder is None:
            return None
        if self._embedding_cache is None or self._embedding_cache.fingerprint != embedder.fingerprint:
            self._embedding_cache = EmbeddingCache(self.store.root / "embeddings", embedder.fingerprint, embedder.dim)
        return self._embedding_cache

    # -- writing ---------------------------------------------------------------------------

    def build(self, progress: Progress | None = None) -> IndexReport:
        """Full re-index into a new generation, swapped in atomically when complete."""
        return self.index(full=True, progress=progress)

    def index(self, full: bool = False, progress: Progress | None = None, background: bool = False) -> IndexReport:
        """Bring the index up to date with articles/: only what changed, or everything with full.

        Changed articles are keyword-indexed under the write lock; their passages are
        embedded outside it (publishes meanwhile wait milliseconds, not minutes): here, after
        the keyword update, or with `background` (the watcher, the start-up reconcile) by
        the vector worker.  In the background a model change never starts a rebuild: the
        worker re-embeds while search stays keyword-only."""
        started = time.monotonic()
        progress = progress or (lambda stage, done, total: None)
        embedder = self.embedder
        if full and embedder is not None:
            # Fill the embedding cache first, without the lock; the build then reads it.
            articles = list(load_articles(self.articles_dir, self.settings.max_article_bytes).articles.values())
            cache = EmbeddingCache(self.store.root / "embeddings", embedder.fingerprint, embedder.dim)
            try:
                VectorWork(embedder, cache, progress).embed([(a, article_passages(a)) for a in articles])
            finally:
                cache.close()
        with self.store.write_lock():
            self.catalog = load_articles(self.articles_dir, self.settings.max_article_bytes)
            articles = list(self.catalog.articles.values())
            generation = self.store.current()
            manifest = Manifest.load(generation) if generation else None
            reason = N_("full rebuild requested") if full else self._format_reason(manifest)
            model_change = None if reason else self._model_reason(manifest, embedder)
            if reason:
                logger.info("full rebuild: %s", reason)
                new_generation = self.store.new_generation()
                try:
                    manifest = build_generation(
                        new_generation, self.articles_dir, articles, embedder, self._cache(embedder), self.settings.ann_threshold,
                        self._embedder_error, progress,
                    )
                except BaseException:
                    self.store.discard(new_generation)
                    raise
                self.store.activate(new_generation)
                added, changed, deleted = len(articles), 0, 0
            else:
                assert manifest is not None and generation is not None
                known = manifest.articles
                upserts = [a for a in articles if known.get(a.slug, {}).get("checksum") != a.checksum]
                deletes = [slug for slug in known if slug not in self.catalog.articles]
                added = sum(1 for a in upserts if a.slug not in known)
                changed, deleted = len(upserts) - added, len(deletes)
                if upserts or deletes:
                    manifest = apply_changes(
                        generation, self.articles_dir, manifest, upserts, deletes, embedder, self._cache(embedder),
                        self.settings.ann_threshold, progress, defer_vectors=True,
                    )
                else:
                    refit_vectors(generation, manifest, self.settings.ann_threshold)
        if manifest.pending_vectors or (embedder is not None and manifest.embedder_fingerprint != embedder.fingerprint):
            if background:
                self.start_vector_worker()
            elif embedder is not None:
                waiting = set(manifest.pending_vectors) - {a.slug for a in upserts} if not reason else set()
                self.vector_worker.run_once(progress)
                manifest = Manifest.load(self.store.current()) or manifest
                # Articles left without vectors earlier (the model was unavailable) count as changed: re-indexed now.
                changed += len(waiting - set(manifest.pending_vectors))
        manifest = self._calibrate(manifest, changed=bool(reason or added or changed or deleted))
        return IndexReport(
            full=bool(reason), added=added, changed=changed, deleted=deleted, articles=len(manifest.articles),
            passages=manifest.passages, vectors=manifest.vectors, seconds=time.monotonic() - started,
            semantic="on" if embedder is not None else N_("off: %(reason)s", reason=self._embedder_error),
            reason=reason or model_change or "", pending_vectors=len(manifest.pending_vectors),
            answer_threshold=held.threshold if (held := Calibration.from_dict(manifest.answer_calibration)) else None,
        )

    def _calibrate(self, manifest: Manifest, changed: bool) -> Manifest:
        """Measure the "no answer" threshold (kb.search.calibration) when the articles or the
        model changed since the last measurement, and keep it in the manifest.  Measured
        outside the write lock (probe vectors come from the embedding cache after the first time)."""
        embedder = self.embedder
        held = Calibration.from_dict(manifest.answer_calibration)
        if embedder is None or manifest.pending_vectors or manifest.embedder_fingerprint != embedder.fingerprint:
            return manifest
        if held is not None and held.fingerprint == embedder.fingerprint and not changed:
            return manifest
        generation = self.store.current()
        vectors = manifest.vector_files(generation).load() if generation is not None else None
        result = calibrate(embedder, self._cache(embedder), vectors, self.catalog.articles.values()) if vectors else None
        with self.store.write_lock():
            generation = self.store.current()
            manifest = (Manifest.load(generation) if generation is not None else None) or manifest
            manifest.answer_calibration = result.to_dict() if result else {}
            if generation is not None:
                manifest.save(generation)
        return manifest

    @staticmethod
    def _format_reason(manifest: Manifest | None) -> str | None:
        """Why the keyword side must be rebuilt (no index, another format or analyzer)."""
        if manifest is None:
            return N_("no index yet")
        if manifest.schema_version != SCHEMA_VERSION or manifest.analyzer_version != keyword.ANALYZER_VERSION:
            return N_("the index format or the text analyzer changed")
        return None

    @staticmethod
    def _model_reason(manifest: Manifest | None, embedder: Embedder | None) -> str | None:
        if manifest is None or embedder is None:
            # Without a model the vectors cannot be recomputed: keep them (updates set the
            # changed articles aside in the manifest until the model is back).
            return None
        if manifest.embedder_fingerprint != embedder.fingerprint:
            return N_("the embedding model changed (%(old)s -> %(new)s): re-embedding everything",
                      old=manifest.embedder or "none", new=embedder.name)
        return None

    def upsert(self, path: Path | str) -> Article:
        """Index one article file now (added or changed), without a full rebuild."""
        path = Path(path)
        article, problems = read_article_file(path, self.articles_dir, self.settings.max_article_bytes)
        if article is not None:
            article = with_category_slug(article, self.catalog.categories)
        errors = [p for p in problems if p.severity == "error"]
        if article is None or errors:
            raise KbError("invalid_article", "; ".join(str(p) for p in errors or problems), field=errors[0].field if errors else None)
        with self.store.write_lock():
            generation, manifest = self._live_for_update()
            indexed = manifest.articles.get(article.slug)
            other = manifest_article_path(self.articles_dir, indexed) if indexed else None
            if other is not None and other.resolve() != path.resolve() and other.exists():
                raise KbError("duplicate_slug", f"{path.name}: slug {article.slug!r} is already used by {other.name}", field="slug")
            manifest = apply_changes(generation, self.articles_dir, manifest, [article], [], self.embedder,
                                     self._cache(self.embedder), self.settings.ann_threshold, defer_vectors=True)
            self.catalog.articles[article.slug] = article
        if article.slug in manifest.pending_vectors:
            self.start_vector_worker()  # searchable by keyword now; its vectors follow in the background
        return article

    def delete(self, slug: str) -> bool:
        """Remove one article from the indexes (the file itself is the caller's business)."""
        with self.store.write_lock():
            generation, manifest = self._live_for_update()
            found = slug in manifest.articles
            apply_changes(generation, self.articles_dir, manifest, [], [slug], self.embedder, self._cache(self.embedder),
                          self.settings.ann_threshold)
            self.catalog.articles.pop(slug, None)
        return found

    def _live_for_update(self) -> tuple[Path, Manifest]:
        generation = self.store.current()
        manifest = Manifest.load(generation) if generation else None
        if generation is None or manifest is None or self._format_reason(manifest):
            raise KbError("no_index", f"No usable index in {self.store.root}: run 'kb index' first.", status=503)
        return generation, manifest

    def start_vector_worker(self) -> VectorWorker:
        """Start (once) the thread that embeds pending articles and re-embeds for a new model."""
        return self.vector_worker.start()

    def catch_up_vectors(self, timeout: float = 120.0) -> bool:
        """Embed what is pending now, in this thread if no worker is at it (tests, scripts);
        True once every indexed article has its vectors from the configured model."""
        deadline = time.monotonic() + timeout
        while True:
            self.vector_worker.run_once()
            generation = self.store.current()
            manifest = Manifest.load(generation) if generation else None
            embedder = self.embedder
            if manifest is None or embedder is None:
                return False
            if not manifest.pending_vectors and manifest.embedder_fingerprint == embedder.fingerprint:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)  # another process's worker holds vectors.lock

    def close(self) -> None:
        self.vector_worker.stop()

    def start(self, progress: Progress | None = None) -> StartReport:
        """Before serving: build the index if there is none, remove what interrupted writers
        left (temp files, half-built generations), bring the index in line with the articles
        folder (files added, changed, deleted or renamed while the server was down, or a
        publish a crash cut short) and start the vector worker, which embeds whatever is
        pending (a crash may have left some) or re-embeds for a new model."""
        removed = self.store.clean_up()
        built = self.ensure_index(progress)
        report = built or self.index(progress=progress, background=True)
        self.start_vector_worker()
        if removed:
            logger.warning("removed %d file(s) left by interrupted writes: %s", len(removed), ", ".join(removed[:10]),
                           extra={"reported": True})  # in StartReport.summary_parts, which kb serve prints
        if not built and not report.full and (report.added or report.changed or report.deleted):
            logger.warning("the index was behind the articles folder: %d added, %d changed, %d deleted (now indexed)",
                           report.added, report.changed, report.deleted, extra={"reported": True})  # as above
        return StartReport(report, tuple(removed), built is not None)

    def index_status(self, slug: str, checksum: str | None = None) -> str:
        """Where an article stands in the live index, for the editor: ``searchable`` (keyword
        and semantic), ``keyword_only`` (its vectors are being embedded), ``not_indexed``
        (absent, or the index holds another version than `checksum`)."""
        generation = self.store.current()
        manifest = Manifest.load(generation) if generation else None
        entry = manifest.articles.get(slug) if manifest else None
        if entry is None or (checksum is not None and entry.get("checksum") != checksum):
            return "not_indexed"
        if slug in manifest.pending_vectors or self._vectors_unusable(manifest):
            return "keyword_only"
        return "searchable"

    def _vectors_unusable(self, manifest: Manifest) -> str | None:
        """Why the manifest's vectors cannot answer this process's queries, or None."""
        if self._embedder_disabled or not manifest.vector_snapshot:
            return None
        embedder = self.embedder
        if embedder is None or manifest.embedder_fingerprint == embedder.fingerprint:
            return None
        return (f"the index's vectors were made by {manifest.embedder or 'another model'}, this server embeds with "
                f"{embedder.name}: keyword search only until the background re-embedding finishes")

    def warm_up(self) -> None:
        """Load now what the first searches would otherwise wait for: the index, the
        catalog, the model and the typo vocabularies (about a second at 10k articles)."""
        try:
            state = self._read_state()
        except KbError:
            return  # no index yet: nothing to warm
        with self._searching(state) as searcher:
            for leaf, _ in searcher.reader().leaf_readers():
                for field in ("body", "spell"):
                    self._segments.vocabulary.of(leaf, field)
        self.catalog  # noqa: B018 - read it now
        if state.vectors is not None and self.embedder is not None:
            self.embedder.embed_query("warm up")

    def ensure_index(self, progress: Progress | None = None) -> IndexReport | None:
        """Build the index if there is none (first start); otherwise leave it alone."""
        generation = self.store.current()
        if generation is not None and Manifest.load(generation) is not None:
            return None
        return self.index(progress=progress)

    # -- reading ---------------------------------------------------------------------------

    def _read_state(self) -> _ReadState:
        marker = self.store.current_marker()
        state = self._state
        if state is not None and state.marker == marker:
            return state
        with self._state_lock:
            state = self._state
            if state is not None and state.marker == marker:
                return state
            generation = self.store.current()
            if generation is None:
                raise KbError("no_index", f"No index in {self.store.root}: run 'kb index' first.", status=503)
            manifest = Manifest.load(generation)
            vectors = None
            mismatch = self._vectors_unusable(manifest) if manifest else None
            if mismatch and mismatch != self._model_mismatch:
                # The vector worker of a serving process (started by start()) re-embeds; a
                # one-off reader (kb search) just answers by keyword.
                logger.error("semantic search is off: %s", mismatch)
                if self.vector_worker.running:
                    self.vector_worker.wake()
            self._model_mismatch = mismatch
            if manifest and manifest.vector_snapshot and not self._embedder_disabled and not mismatch:
                vectors = self._live_vectors(state, generation, manifest)
            index = keyword_index.open_index(generation / "whoosh")
            searchers = SearcherPool(lambda: keyword.KeywordSearcher(
                keyword_index.opened_despite_commits(lambda: index.searcher(weighting=keyword.scoring_model())),
                self._segments))
            self._state = _ReadState(marker, generation, index, vectors, manifest, searchers)
            if state is not None:
                state.searchers.close()
            with keyword_index.opened_despite_commits(index.reader) as reader:
                self._segments.keep_only(reader)
            if manifest is not None and state is not None:
                self._sync_catalog(manifest)
            return self._state

    @staticmethod
    def _live_vectors(previous: _ReadState | None, generation: Path, manifest: Manifest) -> VectorIndex | None:
        """The vectors the manifest describes.  When they extend what this process already
        holds (same generation and snapshot, a longer journal), only the new journal
        records are read and applied to the index in place (searches meanwhile wait on its
        lock for a few milliseconds); otherwise the snapshot is loaded."""
        files = manifest.vector_files(generation)
        if previous is not None and previous.vectors is not None and previous.manifest is not None:
            held = previous.manifest.vector_files(previous.generation)
            if held.generation == generation and held.snapshot == files.snapshot and held.journal_bytes <= files.journal_bytes:
                files.apply_journal(previous.vectors, held.journal_bytes)
                return previous.vectors
        return files.load()

    def _sync_catalog(self, manifest: Manifest) -> None:
        """Re-read the articles another process (re)indexed, so hits show their new metadata."""
        for slug, entry in manifest.articles.items():
            current = self.catalog.articles.get(slug)
            if current is None or current.checksum != entry["checksum"]:
                article, _ = read_article_file(manifest_article_path(self.articles_dir, entry), self.articles_dir)
                if article is not None:
                    self.catalog.articles[slug] = with_category_slug(article, self.catalog.categories)
        for slug in [s for s in self.catalog.articles if s not in manifest.articles]:
            self.catalog.articles.pop(slug, None)

    def _searching(self, state: _ReadState):
        """A Whoosh searcher of this index state, for this thread alone while the block runs."""
        return state.searchers.searcher()

    def synonyms(self) -> SynonymTable:
        path = self.articles_dir / "_synonyms.yml"
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            mtime = 0.0
        if self._synonyms[0] != mtime:
            table, problems = load_synonyms(self.articles_dir)
            for problem in problems:
                logger.warning("synonyms: %s", problem)
            self._synonyms = (mtime, table)
        return self._synonyms[1]

    def dialect(self) -> DialectLexicon:
        """The dialect lexicon questions are read with: the built-in one plus the editors'
        ``_dialect.yml``, re-read when either changes (kb.search.dialect)."""
        return self._dialect.current()

    def search(self, query: str, mode: str | None = None, limit: int = 10, category: str | None = None,
               tags: list[str] | tuple[str, ...] | None = None, lang: str | None = None, include_drafts: bool = False,
               include_internal: bool = False, offset: int = 0) -> list[Hit]:
        """Hits for a customer's question, best first (see ``kb.search.hits.Hit``)."""
        return self.search_page(query, mode, limit, category, tags, lang, include_drafts, include_internal, offset).hits

    def search_page(self, query: str, mode: str | None = None, limit: int = 10, category: str | None = None,
                    tags=None, lang: str | None = None, include_drafts: bool = False,
                    include_internal: bool = False, offset: int = 0) -> SearchPage:
        """Like :meth:`search`, plus the total number of matching articles and a "did you mean"."""
        mode = mode or self.settings.search_mode
        if mode not in MODES:
            raise KbError("bad_mode", f"mode must be one of {', '.join(MODES)}", field="mode")
        if not isinstance(query, str):
            raise KbError("bad_query", "query must be text", field="q")
        # A lone surrogate (a JSON "\ud800" escape) is no text: the model cannot encode it.
        query = _SURROGATES.sub("", query)
        try:
            limit = max(1, min(int(limit), 100))
            offset = max(0, int(offset))
        except (TypeError, ValueError):
            raise KbError("bad_limit", "limit and offset must be whole numbers", field="limit") from None
        filters = keyword.Filters(category, tuple(tags or ()), lang, include_drafts, include_internal)
        state = self._read_state()
        embedder = self.embedder if mode != "keyword" and state.vectors is not None else None
        catalog, synonyms, dialect = self.catalog.articles, self.synonyms(), self.dialect()
        with self._searching(state) as searcher:
            ranked = rank_articles(
                query=query, mode=mode, filters=filters, searcher=searcher, vectors=state.vectors, embedder=embedder,
                catalog=catalog, synonyms=synonyms, settings=self.settings, need=offset + limit, caches=self._segments,
                cut=self.answer_cut(state), dialect=dialect,
            )
            page = ranked.articles[offset:offset + limit]
            hits = [hit for item in page if (hit := self._make_hit(searcher, item, ranked.highlight_stems)) is not None]
            suggestion = None
            if len(ranked.articles) < 3 and ranked.query.words:
                suggestion = spelling.did_you_mean(searcher.reader(), ranked.query.words, self._segments.vocabulary)
                visible = keyword.Filters(include_drafts=include_drafts, include_internal=include_internal)
                if suggestion and not rank_articles(
                    query=suggestion, mode="keyword", filters=visible, searcher=searcher, vectors=None, embedder=None,
                    catalog=catalog, synonyms=synonyms, settings=self.settings, need=1, caches=self._segments,
                    cut=self.answer_cut(state), dialect=dialect,
                ).answered:
                    # A correction only drafts or internal articles would answer is no suggestion (any
                    # category or language will do: the site offers to search them all).
                    suggestion = None
        return SearchPage(hits=hits, total=len(ranked.articles), did_you_mean=suggestion, mode=mode,
                          reason=None if ranked.answered else "no_answer")

    def answer_cut(self, state: _ReadState | None = None) -> AnswerCut:
        """The "no answer" cut searches use: the answer_threshold setting, else the index's calibration."""
        manifest = (state or self._read_state()).manifest or Manifest()
        return answer_cut(self.settings.answer_threshold, Calibration.from_dict(manifest.answer_calibration),
                          manifest.embedder_fingerprint)

    def _make_hit(self, searcher, item, highlight_stems: set[str]) -> Hit | None:
        """The hit for a ranked article; None if its file is gone (deleted or renamed on disk
        and not re-indexed yet): it is dropped, and the watcher or the next start removes it."""
        article = self.catalog.articles.get(item.slug)
        if article is None:
            logger.warning("search found %r, which is no longer in the articles folder: hit dropped", item.slug)
            return None
        passage = item.passage
        if passage is None and item.passage_id:
            passage = self._segments.passages.find(searcher, item.slug, item.passage_id)
        # A heading with no text of its own (a '##' right before a '###') is a passage too.
        text = passage["text"] if passage and passage["text"] else (article.summary or article.title)
        faq = None
        section = None
        section_url = None
        if passage:
            if passage["kind"] == "faq":
                entry = article.faq[passage["faq_index"]] if passage["faq_index"] < len(article.faq) else None
                faq = entry.to_dict() if entry else None
                section_url = article_url(article.slug, "faq")
                section = passage["heading"]
            elif passage["heading"]:
                section = passage["heading"]
                section_url = article_url(article.slug, passage["anchor"])
        return Hit(
            slug=article.slug, title=article.title, url=article.url, score=round(float(item.score), 6),
            snippet=make_snippet(text, highlight_stems), section=section, section_url=section_url,
            matched_by=item.matched_by, faq=faq, category=article.category, category_slug=article.category_slug,
            summary=article.summary, lang=article.lang,
            translations=tuple(translation_link(self.catalog.articles[s]) for s in item.translations if s in self.catalog.articles),
        )

    def related(self, slug: str, limit: int = 5, include_internal: bool = False) -> list[Article]:
        """Semantic neighbours of an article (by its mean passage vector), public ones only by default."""
        state = self._read_state()
        if state.vectors is None or slug not in state.vectors.slugs():
            return []
        matrix = state.vectors.vectors_of(slug)
        centre = matrix.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        filters = keyword.Filters(include_internal=include_internal)
        seen: list[Article] = []
        for entry, _ in state.vectors.search(centre, limit * 8 + len(matrix)):
            article = self.catalog.articles.get(entry.slug)
            if entry.slug == slug or article is None or not filters.allows(article) or article in seen:
                continue
            seen.append(article)
            if len(seen) >= limit:
                break
        return seen

    def autocomplete(self, prefix: str, limit: int = 8, include_internal: bool = False) -> list[Hit]:
        """Search-as-you-type: keyword search on what is typed so far, last word as a prefix."""
        prefix = prefix[: self.settings.max_query_chars]
        hits = self.search(prefix, mode="keyword", limit=limit, include_internal=include_internal)
        if hits or not prefix.strip():
            return hits
        state = self._read_state()
        words = keyword.analyze_query(prefix, self.settings.max_query_chars, self.dialect()).words
        if not words:
            return []
        with self._searching(state) as searcher:
            completions = spelling.vocabulary_prefix(searcher.reader(), words[-1], 3)
        for completion in completions:
            hits = self.search(" ".join([*words[:-1], completion]), mode="keyword", limit=limit, include_internal=include_internal)
            if hits:
                return hits
        return []

    def health(self) -> dict:
        """Articles, passages, index age, embedding backend and whether semantic search is up."""
        try:
            state = self._read_state()
        except KbError as exc:
            return {"status": "no_index", "message": exc.message}
        manifest = state.manifest or Manifest()
        worker = self.vector_worker.status
        unusable = self._vectors_unusable(manifest)
        return {
            "status": "ok",
            "articles": len(manifest.articles),
            "passages": manifest.passages,
            "vectors": len(state.vectors) if state.vectors is not None else 0,
            "index_built_at": manifest.built_at,
            "index_updated_at": manifest.updated_at,
            "embedding_backend": self.settings.embedding_backend,
            "embedding_model": manifest.embedder,
            "semantic": state.vectors is not None and self.embedder is not None,
            "semantic_error": self._embedder_error or unusable or manifest.semantic_error,
            "articles_without_vectors": len(manifest.pending_vectors),
            # Every indexed article has its vectors: semantic search has caught up with the publishes.
            "semantic_caught_up": not manifest.pending_vectors and not unusable and state.vectors is not None,
            "background": worker.to_dict(),
            **self._answer_health(state),
        }

    def _answer_health(self, state: _ReadState) -> dict:
        cut = self.answer_cut(state)
        calibration = Calibration.from_dict((state.manifest or Manifest()).answer_calibration)
        return {"answer_threshold": None if cut.threshold is None else round(cut.threshold, 4),
                "answer_threshold_source": cut.source,
                "answer_calibration": calibration.to_dict() if calibration else None}


@dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    total: int
    did_you_mean: str | None
    mode: str
    reason: str | None = None  # "no_answer": nothing in the collection answers (kb.search.calibration)

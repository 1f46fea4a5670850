"""Writing the index: how a :class:`kb.knowledge.KnowledgeBase` brings its index in line with the
articles folder (a full build, the reconcile ``kb index`` and the start-up run, one article at
a publish or a delete), prepares the index before serving, and keeps the "no answer"
calibration current.

Apart from ``kb.knowledge`` because writing is its own idea: it holds the write lock, the
embedding cache writers share and the rebuild decisions, none of which a search needs.
``KnowledgeBase.index``, ``upsert``, ``delete``, ``start``, ``ensure_index`` and
``catch_up_vectors`` delegate here; the generations, manifest and vector files themselves are
``kb.search.indexing``'s.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kb.content.articles import Article
from kb.content.articles import load_articles
from kb.content.articles import read_article_file
from kb.content.articles import with_category_slug
from kb.errors import KbError
from kb.errors import errors_in
from kb.search import keyword
from kb.search.cache import EmbeddingCache
from kb.search.calibration import MAX_PSEUDO_QUESTIONS
from kb.search.calibration import Calibration
from kb.search.calibration import calibrate
from kb.search.calibration import calibration_inputs
from kb.search.calibration import collection_digest
from kb.search.embed import latent_terms
from kb.search.indexing import Manifest
from kb.search.indexing import Progress
from kb.search.indexing import VectorWork
from kb.search.indexing import apply_changes
from kb.search.indexing import build_generation
from kb.search.indexing import manifest_article_path
from kb.search.indexing import refit_vectors
from kb.search.landmarks import FILE_NAME as LANDMARKS_FILE
from kb.search.passages import article_passages
from kb.search.store import SCHEMA_VERSION
from kb.translation import N_

if TYPE_CHECKING:
    from kb.knowledge import KnowledgeBase
    from kb.search.embed import Embedder

logger = logging.getLogger(__name__)


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


class Indexer:
    """The writing side of one KnowledgeBase.  It reads the model, the catalog, the settings
    and the vector worker through the KnowledgeBase at each call (never a copy, so a
    replaced one is seen) and calls back its public methods (``index``, ``ensure_index``,
    ``start_vector_worker``), so each of them stays one thing wherever a write starts."""

    def __init__(self, knowledge: KnowledgeBase):
        self.knowledge = knowledge
        self._embedding_cache: EmbeddingCache | None = None

    def _cache(self, embedder: Embedder | None) -> EmbeddingCache | None:
        """The embedding cache of this model (one connection, kept; writers hold the lock)."""
        if embedder is None:
            return None
        if self._embedding_cache is None or self._embedding_cache.fingerprint != embedder.fingerprint:
            root = self.knowledge.store.root
            self._embedding_cache = EmbeddingCache(root / "embeddings", embedder.fingerprint, embedder.dim)
        return self._embedding_cache

    def index(self, full: bool = False, progress: Progress | None = None, background: bool = False) -> IndexReport:
        """Bring the index up to date with articles/: only what changed, or everything with full.

        Changed articles are keyword-indexed under the write lock; their passages are
        embedded outside it (publishes meanwhile wait milliseconds, not minutes): here, after
        the keyword update, or with `background` (the watcher, the start-up reconcile) by
        the vector worker.  In the background a model change never starts a rebuild: the
        worker re-embeds while search stays keyword-only."""
        kb = self.knowledge
        started = time.monotonic()
        progress = progress or (lambda stage, done, total: None)
        embedder = kb.embedder
        if full and embedder is not None:
            # Fill the embedding cache first, without the lock; the build then reads it.
            articles = list(load_articles(kb.articles_dir, kb.settings.max_article_bytes).articles.values())
            cache = EmbeddingCache(kb.store.root / "embeddings", embedder.fingerprint, embedder.dim)
            try:
                VectorWork(embedder, cache, progress).embed([(a, article_passages(a)) for a in articles])
            finally:
                cache.close()
        with kb.store.write_lock():
            kb.catalog = load_articles(kb.articles_dir, kb.settings.max_article_bytes)
            articles = list(kb.catalog.articles.values())
            generation = kb.store.current()
            manifest = Manifest.load(generation) if generation else None
            reason = N_("full rebuild requested") if full else _format_reason(manifest)
            model_change = None if reason else _model_reason(manifest, embedder)
            if reason:
                logger.info("full rebuild: %s", reason)
                # In the background (a server's start) a build whose passages the model has not
                # embedded yet (a first start, or a new model as well as a new format) writes the
                # keyword side only and leaves every vector to the vector worker, as a model
                # change does: the site serves keyword search in seconds instead of waiting
                # for the model (the bundled 33 articles: first page 126 s before).
                embeds_now = embedder is not None and not (background and self._uncached(embedder, articles))
                new_generation = kb.store.new_generation()
                try:
                    manifest = build_generation(
                        new_generation, kb.articles_dir, articles, embedder if embeds_now else None,
                        self._cache(embedder), kb.settings.ann_threshold, kb.semantic_error, progress,
                    )
                except BaseException:
                    kb.store.discard(new_generation)
                    raise
                kb.store.activate(new_generation)
                added, changed, deleted = len(articles), 0, 0
            else:
                assert manifest is not None and generation is not None
                known = manifest.articles
                upserts = [a for a in articles if known.get(a.slug, {}).get("checksum") != a.checksum]
                deletes = [slug for slug in known if slug not in kb.catalog.articles]
                added = sum(1 for a in upserts if a.slug not in known)
                changed, deleted = len(upserts) - added, len(deletes)
                if upserts or deletes:
                    manifest = apply_changes(
                        generation, kb.articles_dir, manifest, upserts, deletes, embedder, self._cache(embedder),
                        kb.settings.ann_threshold, progress, defer_vectors=True,
                    )
                else:
                    refit_vectors(generation, manifest, kb.settings.ann_threshold)
        if manifest.pending_vectors or (embedder is not None and manifest.embedder_fingerprint != embedder.fingerprint):
            if background:
                kb.start_vector_worker()
            elif embedder is not None:
                waiting = set(manifest.pending_vectors) - {a.slug for a in upserts} if not reason else set()
                kb.vector_worker.run_once(progress)
                manifest = Manifest.load(kb.store.current()) or manifest
                # Articles left without vectors earlier (the model was unavailable) count as changed: re-indexed now.
                changed += len(waiting - set(manifest.pending_vectors))
        if not background and embedder is not None and manifest.embedder_fingerprint == embedder.fingerprint:
            self.fill_latent_terms(embedder)
        manifest = self._calibrate(manifest, changed=bool(reason or added or changed or deleted))
        awaiting_model = embedder is not None and manifest.embedder_fingerprint != embedder.fingerprint
        return IndexReport(
            full=bool(reason), added=added, changed=changed, deleted=deleted, articles=len(manifest.articles),
            passages=manifest.passages, vectors=manifest.vectors, seconds=time.monotonic() - started,
            semantic=(N_("following in the background") if background and awaiting_model else "on")
            if embedder is not None else N_("off: %(reason)s", reason=kb.semantic_error),
            reason=reason or model_change or "",
            pending_vectors=len(manifest.articles) if awaiting_model else len(manifest.pending_vectors),
            answer_threshold=held.threshold if (held := Calibration.from_dict(manifest.answer_calibration)) else None,
        )

    def _uncached(self, embedder: Embedder, articles: list[Article]) -> bool:
        """Whether some passage of these articles is not in the embedding cache (vectors or
        latent terms): building now would wait for the model.  Article by article, stopping at
        the first one missing: on a first start (an empty cache) that is the first article,
        not every article's passages worked out before the build works them out again."""
        work = VectorWork(embedder, self._cache(embedder), lambda *_: None)
        return any(work.cached([(article, article_passages(article))])[1] for article in articles)

    def fill_latent_terms(self, embedder: Embedder) -> None:
        """Give every article's passages their latent terms where the embedding cache has none
        (an index built before kb used them), without the write lock: only the cache changes,
        and searches read the terms from there (``kb.search.latent``).  Once a cache has them
        all it says so (``EmbeddingCache.latent_complete``) and this returns at once: walking
        every article's chunks for missing terms took seconds on every ``kb index`` at 10k
        articles (scripts/bench_latent.py)."""
        if latent_terms(embedder) is None or not self.knowledge.settings.uses_latent_terms:
            return
        cache = EmbeddingCache(self.knowledge.store.root / "embeddings", embedder.fingerprint, embedder.dim)
        try:
            if cache.latent_complete:
                return
            articles = list(self.knowledge.catalog.articles.values())
            VectorWork(embedder, cache, lambda *_: None).fill_latent([(a, article_passages(a)) for a in articles])
            cache.mark_latent_complete()
        finally:
            cache.close()
        self.knowledge.forget_latent_terms()

    def calibrate_if_stale(self, manifest: Manifest | None = None) -> None:
        """:meth:`_calibrate` the current index state: the vector worker's step once nothing
        is pending, so that articles published or picked up by the watcher while the server
        runs are in the calibration too (before, only ``kb index`` and a restart measured
        it: a help center that started empty stayed without a "no answer" cut).  `manifest`:
        the current one when the caller has just read it (a 10k manifest is 2 MB of JSON)."""
        if manifest is None:
            generation = self.knowledge.store.current()
            manifest = Manifest.load(generation) if generation is not None else None
        if manifest is None:
            return
        held = manifest.answer_calibration or {}
        if held.get("pseudo_questions", 0) >= MAX_PSEUDO_QUESTIONS and held.get("collection") \
                and held.get("fingerprint") == getattr(self.knowledge.embedder, "fingerprint", None):
            # A collection large enough to be sampled (calibration.sample, every n-th text):
            # one article more shifts the whole sample, and measuring it would embed hundreds
            # of new texts and their renderings after each publish, while one article barely
            # moves such a collection's threshold.  `kb index` and the next start measure it.
            return
        self._calibrate(manifest, changed=False)

    def _calibrate(self, manifest: Manifest, changed: bool) -> Manifest:
        """Measure the "no answer" threshold (kb.search.calibration) when the articles, the
        model or the calibration's inputs changed since the last measurement, and keep it in
        the manifest.  Measured outside the write lock (probe vectors come from the
        embedding cache after the first time)."""
        kb = self.knowledge
        embedder = kb.embedder
        if embedder is None or manifest.pending_vectors or manifest.embedder_fingerprint != embedder.fingerprint:
            return manifest
        generation = kb.store.current()
        held = manifest.answer_calibration or {}
        collection = collection_digest(manifest.articles)
        inputs = calibration_inputs(kb.dialect())
        # An index calibrated before landmarks existed (kb.search.landmarks) is measured again once.
        # A collection too small to calibrate keeps a record without a threshold, so that it is
        # not tried again until it changes.
        has_landmarks = "threshold" not in held or (generation is not None and (generation / LANDMARKS_FILE).exists())
        if held.get("fingerprint") == embedder.fingerprint and held.get("collection") == collection and not changed \
                and has_landmarks and held.get("inputs") == inputs:
            return manifest
        vectors = manifest.vector_files(generation).load() if generation is not None else None
        measured = calibrate(embedder, self._cache(embedder), vectors, kb.catalog.articles.values(),
                             kb.dialect()) if vectors else None
        with kb.store.write_lock():
            generation = kb.store.current()
            manifest = (Manifest.load(generation) if generation is not None else None) or manifest
            if collection_digest(manifest.articles) != collection:
                return manifest  # changed meanwhile: the next pass measures the new articles
            manifest.answer_calibration = replace(measured[0], collection=collection).to_dict() if measured else {
                "fingerprint": embedder.fingerprint, "collection": collection, "inputs": inputs}
            if generation is not None:
                if measured:
                    # Before the manifest: a reader that sees the new calibration finds its landmarks.
                    measured[1].save(generation)
                manifest.save(generation)
        return manifest

    def upsert(self, path: Path | str) -> Article:
        """Index one article file now (added or changed), without a full rebuild."""
        kb = self.knowledge
        path = Path(path)
        article, problems = read_article_file(path, kb.articles_dir, kb.settings.max_article_bytes)
        if article is not None:
            article = with_category_slug(article, kb.catalog.categories)
        errors = errors_in(problems)
        if article is None or errors:
            raise KbError("invalid_article", "; ".join(str(p) for p in errors or problems), field=errors[0].field if errors else None)
        with kb.store.write_lock():
            generation, manifest = self._live_for_update()
            indexed = manifest.articles.get(article.slug)
            other = manifest_article_path(kb.articles_dir, indexed) if indexed else None
            if other is not None and other.resolve() != path.resolve() and other.exists():
                raise KbError("duplicate_slug", f"{path.name}: slug {article.slug!r} is already used by {other.name}", field="slug")
            manifest = apply_changes(generation, kb.articles_dir, manifest, [article], [], kb.embedder,
                                     self._cache(kb.embedder), kb.settings.ann_threshold, defer_vectors=True)
            kb.catalog.articles[article.slug] = article
        if article.slug in manifest.pending_vectors:
            kb.start_vector_worker()  # searchable by keyword now; its vectors follow in the background
        return article

    def delete(self, slug: str) -> bool:
        """Remove one article from the indexes (the file itself is the caller's business)."""
        kb = self.knowledge
        with kb.store.write_lock():
            generation, manifest = self._live_for_update()
            found = slug in manifest.articles
            apply_changes(generation, kb.articles_dir, manifest, [], [slug], kb.embedder, self._cache(kb.embedder),
                          kb.settings.ann_threshold)
            kb.catalog.articles.pop(slug, None)
        return found

    def _live_for_update(self) -> tuple[Path, Manifest]:
        kb = self.knowledge
        generation = kb.store.current()
        manifest = Manifest.load(generation) if generation else None
        if generation is None or manifest is None or _format_reason(manifest):
            raise KbError("no_index", f"No usable index in {kb.store.root}: run 'kb index' first.", status=503)
        return generation, manifest

    def catch_up_vectors(self, timeout: float = 120.0) -> bool:
        """Embed what is pending now, in this thread if no worker is at it (tests, scripts);
        True once every indexed article has its vectors from the configured model."""
        kb = self.knowledge
        deadline = time.monotonic() + timeout
        while True:
            kb.vector_worker.run_once()
            generation = kb.store.current()
            manifest = Manifest.load(generation) if generation else None
            embedder = kb.embedder
            if manifest is None or embedder is None:
                return False
            if not manifest.pending_vectors and manifest.embedder_fingerprint == embedder.fingerprint:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)  # another process's worker holds vectors.lock

    def start(self, progress: Progress | None = None) -> StartReport:
        """Before serving: build the index if there is none, remove what interrupted writers
        left (temp files, half-built generations), bring the index in line with the articles
        folder (files added, changed, deleted or renamed while the server was down, or a
        publish a crash cut short) and start the vector worker, which embeds whatever is
        pending (a crash may have left some) or re-embeds for a new model."""
        kb = self.knowledge
        removed = kb.store.clean_up()
        built = kb.ensure_index(progress, background=True)
        report = built or kb.index(progress=progress, background=True)
        kb.start_vector_worker()
        if removed:
            logger.warning("removed %d file(s) left by interrupted writes: %s", len(removed), ", ".join(removed[:10]),
                           extra={"reported": True})  # in StartReport.summary_parts, which kb serve prints
        if not built and not report.full and (report.added or report.changed or report.deleted):
            logger.warning("the index was behind the articles folder: %d added, %d changed, %d deleted (now indexed)",
                           report.added, report.changed, report.deleted, extra={"reported": True})  # as above
        return StartReport(report, tuple(removed), built is not None)

    def ensure_index(self, progress: Progress | None = None, background: bool = False) -> IndexReport | None:
        """Build the index if there is none (first start); otherwise leave it alone.  With
        `background` (a server's start) the vectors are left to the vector worker when the
        model has not embedded the passages yet (``index``)."""
        kb = self.knowledge
        generation = kb.store.current()
        if generation is not None and Manifest.load(generation) is not None:
            return None
        return kb.index(progress=progress, background=background)


def _format_reason(manifest: Manifest | None) -> str | None:
    """Why the keyword side must be rebuilt (no index, another format or analyzer)."""
    if manifest is None:
        return N_("no index yet")
    if manifest.schema_version != SCHEMA_VERSION or manifest.analyzer_version != keyword.ANALYZER_VERSION:
        return N_("the index format or the text analyzer changed")
    return None


def _model_reason(manifest: Manifest | None, embedder: Embedder | None) -> str | None:
    """Why every vector must be re-embedded (another model made them), or None."""
    if manifest is None or embedder is None:
        # Without a model the vectors cannot be recomputed: keep them (updates set the
        # changed articles aside in the manifest until the model is back).
        return None
    if manifest.embedder_fingerprint != embedder.fingerprint:
        return N_("the embedding model changed (%(old)s -> %(new)s): re-embedding everything",
                  old=manifest.embedder or "none", new=embedder.name)
    return None

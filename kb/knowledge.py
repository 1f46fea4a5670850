"""``KnowledgeBase``: the Python API that the site, the agent API, the CLI and the
benchmarks all use.  It owns the articles catalog and the indexes built from it.  Its
writing side (build, reconcile, publish, delete, start-up) is ``kb.indexer``'s and what a hit
shows is ``kb.search_results``'s; the methods stay here, so callers know one object.

Reads take a Whoosh searcher from a small pool (``kb.search.searchers``) and search the
vector index under its read lock.  Both follow the index manifest on disk, whoever changed
it (this process, ``kb index``, another server worker): Whoosh is reopened, the vectors take
the new journal records (or the new snapshot); that is ``kb.live_index``'s, and the health
report's fields are ``kb.health``'s.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

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
from kb.translation import N_
from kb.health import health_report
from kb.indexer import IndexReport
from kb.indexer import Indexer
from kb.indexer import StartReport
from kb.live_index import LiveIndex
from kb.live_index import ReadState
from kb.search import common_words
from kb.search import fusion
from kb.search import keyword
from kb.search import languages
from kb.search import spelling
from kb.search.calibration import Calibration
from kb.search.dialect import DialectLexicon
from kb.search.dialect_files import LexiconFiles
from kb.search.embed import Embedder
from kb.search.embed import make_embedder
from kb.search.embed import word_pieces
from kb.search.hits import Hit
from kb.search.indexing import Manifest
from kb.search.indexing import Progress
from kb.search.indexing import manifest_article_path
from kb.search.latent import LatentTerms
from kb.search.leaves import segment_leaves
from kb.search.no_answer import AnswerCut
from kb.search.no_answer import answer_cut
from kb.search.question_memo import QuestionMemo
from kb.search.ranking import arabizi_reading
from kb.search.ranking import rank_articles
from kb.search.segments import SegmentCaches
from kb.search.store import IndexStore
from kb.search.synonyms import SynonymTable
from kb.search.synonyms import load_synonyms
from kb.search_results import SearchPage
from kb.search_results import make_hit
from kb.text import is_arabic

logger = logging.getLogger(__name__)

MODES = ("hybrid", "keyword", "semantic")
_SURROGATES = re.compile("[\ud800-\udfff]")


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
        self._catalog: Catalog | None = None  # read on first use: `kb index` reads the folder itself
        self._catalog_lock = threading.Lock()
        self._synonyms: tuple[float, SynonymTable] = (-1.0, SynonymTable())
        self._dialect = LexiconFiles(self.articles_dir)
        self._segments = SegmentCaches()
        self._live = LiveIndex(self.store, self._segments, self.settings, self._vectors_wanted, self._sync_catalog)
        self.vector_worker = VectorWorker(self)
        self._indexer = Indexer(self)  # the writing side (kb.indexer)
        self._model_mismatch: str | None = None  # why the live vectors cannot be used (another model made them)
        self._latent: LatentTerms | None = None  # the articles' latent terms, read as searches need them
        self.question_memo = QuestionMemo()  # the model's reading of recent questions (kb.search.question_memo)

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

    def latent_terms(self, embedder: Embedder | None) -> LatentTerms | None:
        """The articles' latent terms for searches with this model (``kb.search.latent``): None
        without a model, or when the settings leave them out of the dense side and of the
        no-answer cut."""
        if embedder is None or not self.settings.uses_latent_terms:
            return None
        latent = self._latent
        if latent is None or latent.embedder is not embedder:
            latent = self._latent = LatentTerms(embedder, self.store.root / "embeddings", self.question_memo)
        latent.retain(self.catalog.articles, self.catalog.version)
        return latent

    def _stored_questions(self) -> bool:
        """Whether most articles are stored questions of a few words (an FAQ-matching collection):
        a search then leaves the latent terms out whatever its candidates (``dense_articles``
        leaves them out where most candidates are that short), so it does not read the question's
        terms at all (a pass of the model, about 30 ms).  Worked out once per catalog state."""
        return self.catalog.derived("search.stored_questions", lambda catalog: fusion.mostly_short(
            [article.word_count for article in catalog.articles.values()], self.settings.fusion_short_words))

    def forget_latent_terms(self) -> None:
        """Searches read the articles' latent terms from the cache again (it was just filled)."""
        if self._latent is not None:
            self._latent.forget()

    @property
    def semantic_error(self) -> str | None:
        self.embedder  # noqa: B018 - trigger the lazy load
        return self._embedder_error

    # -- writing ---------------------------------------------------------------------------

    def build(self, progress: Progress | None = None) -> IndexReport:
        """Full re-index into a new generation, swapped in atomically when complete."""
        return self.index(full=True, progress=progress)

    def index(self, full: bool = False, progress: Progress | None = None, background: bool = False) -> IndexReport:
        """Bring the index up to date with articles/: only what changed, or everything with
        full; with `background` the vectors are left to the vector worker (``Indexer.index``)."""
        return self._indexer.index(full, progress, background)

    def upsert(self, path: Path | str) -> Article:
        """Index one article file now (added or changed), without a full rebuild."""
        return self._indexer.upsert(path)

    def delete(self, slug: str) -> bool:
        """Remove one article from the indexes (the file itself is the caller's business)."""
        return self._indexer.delete(slug)

    def start_vector_worker(self) -> VectorWorker:
        """Start (once) the thread that embeds pending articles and re-embeds for a new model."""
        return self.vector_worker.start()

    def catch_up_vectors(self, timeout: float = 120.0) -> bool:
        """Embed what is pending now, in this thread if no worker is at it (tests, scripts);
        True once every indexed article has its vectors from the configured model."""
        return self._indexer.catch_up_vectors(timeout)

    def calibrate_if_stale(self, manifest: Manifest | None = None) -> None:
        """Measure the "no answer" threshold again if the articles or the model changed since (``Indexer.calibrate_if_stale``)."""
        self._indexer.calibrate_if_stale(manifest)

    def fill_latent_terms(self, embedder: Embedder) -> None:
        """Latent terms for the articles whose passages have none in the cache (``Indexer.fill_latent_terms``)."""
        self._indexer.fill_latent_terms(embedder)

    def close(self) -> None:
        self.vector_worker.stop()
        latent, self._latent = self._latent, None  # a search after this makes a new one
        if latent is not None:
            latent.close()

    def start(self, progress: Progress | None = None) -> StartReport:
        """Before serving: clean up after interrupted writers, build or reconcile the index
        and start the vector worker (``Indexer.start``)."""
        return self._indexer.start(progress)

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
        if self._embedder_disabled:
            return None
        if not manifest.vector_snapshot:
            if not manifest.never_embedded or self.embedder is None:
                return None
            # The vector worker embeds them.
            return N_("the articles are being embedded for the first time: keyword search only until that finishes")
        embedder = self.embedder
        if embedder is None or manifest.embedder_fingerprint == embedder.fingerprint:
            return None
        return (f"the index's vectors were made by {manifest.embedder or 'another model'}, this server embeds with "
                f"{embedder.name}: keyword search only until the background re-embedding finishes")

    def warm_up(self) -> None:
        """Load now what the first searches would otherwise wait for: the index, the
        catalog, the model, the typo vocabularies (about a second at 10k articles) and the
        word frequencies Arabizi questions are read with (kb.search.common_words, 0.3 s)."""
        try:
            state = self._read_state()
        except KbError:
            return  # no index yet: nothing to warm
        with self._searching(state) as searcher:
            for leaf, _ in segment_leaves(searcher.reader()):
                for field in ("body", "spell"):
                    self._segments.vocabulary.of(leaf, field)
        self.catalog  # noqa: B018 - read it now
        common_words.warm_up()
        if state.vectors is not None and self.embedder is not None:
            self.embedder.embed_query("warm up")

    def ensure_index(self, progress: Progress | None = None, background: bool = False) -> IndexReport | None:
        """Build the index if there is none (first start); otherwise leave it alone; with
        `background` the vectors may follow from the vector worker (``Indexer.ensure_index``)."""
        return self._indexer.ensure_index(progress, background)

    # -- reading ---------------------------------------------------------------------------

    def _read_state(self) -> ReadState:
        """The index generation searches read now (``kb.live_index``)."""
        return self._live.current()

    def _vectors_wanted(self, manifest: Manifest | None) -> bool:
        """Whether searches use the manifest's vectors: not in a keyword-only process, nor
        when another model made them (said in the log once per new reason)."""
        mismatch = self._vectors_unusable(manifest) if manifest else None
        if mismatch and mismatch != self._model_mismatch:
            # The vector worker of a serving process (started by start()) re-embeds; a
            # one-off reader (kb search) just answers by keyword.  A first embedding is no
            # fault: the start and the worker say it already.
            logger.log(logging.INFO if manifest.never_embedded else logging.ERROR, "semantic search is off: %s",
                       mismatch)
            if self.vector_worker.running:
                self.vector_worker.wake()
        self._model_mismatch = mismatch
        return bool(manifest and manifest.vector_snapshot and not self._embedder_disabled and not mismatch)

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

    def _searching(self, state: ReadState):
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

    def read_arabizi(self, text: str, detect: bool = True) -> str | None:
        """`text` as a search reads it when it is Arabizi (``kb.search.arabizi``): its Latin words
        in Arabic letters, checked against this help center's words; None when it is not
        Arabizi (with `detect` False every Latin word is read, for word lists)."""
        state = self._read_state()
        embedder = self.embedder if state.vectors is not None else self._embedder
        with self._searching(state) as searcher:
            return arabizi_reading(text, searcher, self._segments, self.dialect(), embedder, detect,
                                   synonyms=self.synonyms())

    def search(self, query: str, mode: str | None = None, limit: int = 10, category: str | None = None,
               tags: list[str] | tuple[str, ...] | None = None, lang: str | None = None, include_drafts: bool = False,
               include_internal: bool = False, offset: int = 0) -> list[Hit]:
        """Hits for a customer's question, best first (see ``kb.search.hits.Hit``)."""
        return self.search_page(query, mode, limit, category, tags, lang, include_drafts, include_internal, offset).hits

    def search_page(self, query: str, mode: str | None = None, limit: int = 10, category: str | None = None,
                    tags=None, lang: str | None = None, include_drafts: bool = False,
                    include_internal: bool = False, offset: int = 0) -> SearchPage:
        """Like :meth:`search`, plus how many articles answer (``total``; the ``related`` ones
        follow them in the list, kb.search.tiers) and a "did you mean"."""
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
        cut = self.answer_cut(state)
        latent = None if self._stored_questions() else self.latent_terms(embedder)
        with self._searching(state) as searcher:
            def ranking(text: str, within: keyword.Filters, need: int):
                return rank_articles(
                    query=text, mode=mode, filters=within, searcher=searcher, vectors=state.vectors, embedder=embedder,
                    catalog=catalog, synonyms=synonyms, settings=self.settings, need=need, caches=self._segments,
                    cut=cut, dialect=dialect, latent=latent, memo=self.question_memo,
                )

            ranked = ranking(query, filters, offset + limit)
            suggestion = corrected = None
            if len(ranked.articles) < 3 and ranked.query.words and not ranked.read_as:
                # The model's tokenizer knows which words are real (kb.search.embed.word_pieces): the
                # model of this search, or the one already loaded for a keyword-mode search.
                suggestion = spelling.did_you_mean(searcher.reader(), query[: self.settings.max_query_chars], ranked.query,
                                                   self._segments.vocabulary, word_pieces(embedder or self._embedder),
                                                   synonyms.words)
                visible = keyword.Filters(include_drafts=include_drafts, include_internal=include_internal)
                if suggestion and not ranked.answered and not is_arabic(query):
                    # A question in Latin letters with no answer, whose correction has one, is
                    # searched corrected ("angry custmer": "Showing results for angry customer").
                    # English spelling is reliable enough for it; Arabic is not: real words the
                    # articles happen not to use were "corrected" (تكيس -> تقيس), and searching
                    # every Arabic correction answered two off-topic questions of the help-center
                    # sets and no in-domain one (2026-12-06).  Latin-only, no set's question moved.
                    again = ranking(suggestion, filters, offset + limit)
                    if again.answered:
                        ranked, corrected, suggestion = again, suggestion, None
                if suggestion and not ranking(suggestion, visible, 1).answered:
                    # A correction this search would not answer either is no suggestion: judged in the
                    # search's own mode, with its "no answer" cut (judged by keyword mode, 32 and 35
                    # "corrected" off-topic questions of the two sets were offered; in hybrid mode 8 and
                    # 4, for one more query embedding on a page with no answer; 1 and 1 since words
                    # people commonly write are no typos, kb.search.common_words), and as the
                    # visitor may see it: a correction only drafts or internal articles would answer
                    # is none (any category or language will do: the site offers to search them all).
                    suggestion = None
            page = ranked.articles[offset:offset + limit]
            hits = [hit for rank, item in enumerate(page, offset)
                    if (hit := make_hit(self.catalog.articles, self._segments.passages, searcher, item,
                                        ranked.highlight_stems, related=rank >= ranked.answers)) is not None]
        return SearchPage(hits=hits, total=ranked.answers, did_you_mean=suggestion, mode=mode,
                          reason=None if ranked.answered else "no_answer", related=len(ranked.articles) - ranked.answers,
                          read_as=ranked.read_as, corrected=corrected)

    def answer_cut(self, state: ReadState | None = None) -> AnswerCut:
        """The "no answer" cut searches use: the answer_threshold setting, else the index's calibration."""
        state = state or self._read_state()
        manifest = state.manifest or Manifest()
        return answer_cut(self.settings.answer_threshold, Calibration.from_dict(manifest.answer_calibration),
                          manifest.embedder_fingerprint, state.landmarks[1], self.settings.answer_latent_weight)

    def related(self, slug: str, limit: int = 5, include_internal: bool = False) -> list[Article]:
        """Semantic neighbours of an article (by its mean passage vector), public ones only by default.

        Never the article's own versions in other languages: its translation is its nearest
        neighbour, and the page links it already ("also in Arabic")."""
        state = self._read_state()
        if state.vectors is None or slug not in state.vectors.slugs():
            return []
        matrix = state.vectors.vectors_of(slug)
        centre = matrix.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        filters = keyword.Filters(include_internal=include_internal)
        itself = set(languages.translation_groups(self.catalog.articles, [slug]).get(slug, (slug,)))
        seen: list[Article] = []
        for entry, _ in state.vectors.search(centre, limit * 8 + len(matrix)):
            article = self.catalog.articles.get(entry.slug)
            if entry.slug in itself or article is None or not filters.allows(article) or article in seen:
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
        """Articles, passages, index age, embedding backend and whether semantic search is up
        (the fields: ``kb.health``)."""
        try:
            state = self._read_state()
        except KbError as exc:
            return {"status": "no_index", "message": exc.message}
        manifest = state.manifest or Manifest()
        background = self.vector_worker.status.to_dict()
        unusable = self._vectors_unusable(manifest)
        semantic = state.vectors is not None and self.embedder is not None
        return health_report(manifest, len(state.vectors) if state.vectors is not None else None, self.answer_cut(state),
                             embedding_backend=self.settings.embedding_backend, semantic=semantic,
                             model_error=self._embedder_error, vectors_unusable=unusable, background=background,
                             question_memo=self.question_memo.stats())

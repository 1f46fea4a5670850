"""The live index as one process reads it: the current generation, opened once and kept
until the index manifest on disk changes.

Apart from ``kb.knowledge`` because following the index is its own idea.  Whoever changes
the index (this process, ``kb index``, another server worker) only swaps or rewrites its
manifest; every reader must notice that, reopen Whoosh, take the new vector journal records
(or load the new snapshot) and keep what did not change (the calibration's landmarks),
while searches already running finish on the state they started with.
``KnowledgeBase._read_state`` is :meth:`LiveIndex.current`; the questions only the
KnowledgeBase can answer (may this manifest's vectors be used with this process's model?
what must the catalog re-read?) are passed in as functions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable

from kb.errors import KbError
from kb.search import keyword
from kb.search import keyword_index
from kb.search import keyword_searcher
from kb.search.indexing import Manifest
from kb.search.landmarks import FILE_NAME as LANDMARKS_FILE
from kb.search.landmarks import Landmarks
from kb.search.searchers import SearcherPool

if TYPE_CHECKING:
    from kb.config import Settings
    from kb.search.segments import SegmentCaches
    from kb.search.store import IndexStore
    from kb.search.vector import VectorIndex


@dataclass
class ReadState:
    """One opened generation: what a search reads from its start to its end."""

    marker: tuple
    generation: Path | None
    index: Any  # whoosh index
    vectors: VectorIndex | None
    manifest: Manifest | None
    searchers: SearcherPool
    landmarks: tuple[tuple | None, Landmarks | None] = (None, None)  # (file marker, the calibration's landmarks)


class LiveIndex:
    """The :class:`ReadState` of the index generation the manifest on disk names, for every
    thread of one KnowledgeBase.

    `vectors_wanted(manifest)`: whether searches use the manifest's vectors (called under the
    lock, once per new manifest).  `on_reopen(manifest)`: told when a later manifest replaces
    one this process held (the catalog re-reads the articles another process indexed)."""

    def __init__(self, store: IndexStore, segments: SegmentCaches, settings: Settings,
                 vectors_wanted: Callable[[Manifest | None], bool], on_reopen: Callable[[Manifest], None]):
        self._store = store
        self._segments = segments
        self._settings = settings
        self._vectors_wanted = vectors_wanted
        self._on_reopen = on_reopen
        self._lock = threading.Lock()
        self._state: ReadState | None = None

    def current(self) -> ReadState:
        """The state of the manifest on disk now: the one held while the manifest is the same
        (one ``stat``), else the new generation or manifest, opened once for every thread."""
        marker = self._store.current_marker()
        state = self._state
        if state is not None and state.marker == marker:
            return state
        with self._lock:
            state = self._state
            if state is not None and state.marker == marker:
                return state
            generation = self._store.current()
            if generation is None:
                raise KbError("no_index", f"No index in {self._store.root}: run 'kb index' first.", status=503)
            manifest = Manifest.load(generation)
            vectors = None
            if self._vectors_wanted(manifest):
                vectors = self._live_vectors(state, generation, manifest)
            index = keyword_index.open_index(generation / "whoosh")
            searchers = SearcherPool(lambda: keyword_searcher.KeywordSearcher(
                keyword_index.opened_despite_commits(lambda: index.searcher(weighting=keyword.scoring_model())),
                self._segments))
            self._state = ReadState(marker, generation, index, vectors, manifest, searchers,
                                    self._landmarks(state, generation, manifest))
            if state is not None:
                state.searchers.close()
            with keyword_index.opened_despite_commits(index.reader) as reader:
                self._segments.keep_only(reader)
            if manifest is not None and state is not None:
                self._on_reopen(manifest)
            return self._state

    def _landmarks(self, previous: ReadState | None, generation: Path,
                   manifest: Manifest | None) -> tuple[tuple | None, Landmarks | None]:
        """(file marker, the landmarks of the generation's calibration), kept from the previous
        state while the file is the same (a publish rewrites the manifest, not the landmarks)."""
        if manifest is None or not manifest.answer_calibration or self._settings.answer_landmarks == "off":
            return None, None
        try:
            st = (generation / LANDMARKS_FILE).stat()
        except FileNotFoundError:
            return None, None
        marker = (str(generation), st.st_mtime_ns, st.st_size, st.st_ino)
        if previous is not None and previous.landmarks[0] == marker:
            return previous.landmarks
        return marker, Landmarks.load(generation)

    @staticmethod
    def _live_vectors(previous: ReadState | None, generation: Path, manifest: Manifest) -> VectorIndex | None:
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

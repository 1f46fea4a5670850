"""The running applier: each change of the log, as it arrives, made true on this node.

One rule serves every layout.  For each change after this process's position, in order:
if the file on disk differs from the database's copy, write it atomically (or delete it);
if the index does not hold that version, update it (under the index write lock); refresh
that one catalog entry.  Worker processes sharing one folder find the file and the index
already right (another worker wrote them) and only refresh their catalog entry: nobody
re-reads the whole folder.  Machines with their own folders write the file and index it.

Changes arrive by PostgreSQL ``LISTEN`` (a connection of its own, :mod:`.listener`) with a
poll every second as the fallback; SQLite has no notifications: the poll is all there is,
one cheap indexed query a second.

Where a node is: ``applied.json`` beside its index (the folder and index it describes,
shared by the workers of that folder), mirrored in the ``cluster_nodes`` table for the
health report of every node.  Each poll checks that the database's log still holds the
change at that position (:mod:`.position`): when the database went back in time (a restore
of an older backup), the node starts over from the log's start, reconciling its folder as a
start does, instead of skipping the changes numbered again below its position.

Apart from :mod:`.startup`: this is what runs while the node serves (the thread, the
watcher's publishes, the health report); the start-up runs once before, and builds on it.
What this node's own disk changed goes the other way, into the log (:mod:`.local_edits`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Callable
from typing import Self

from kb.background import BackgroundLoop
from kb.content.articles import ArticleMap
from kb.content.articles import CATEGORIES_FILE
from kb.content.articles import COLLECTION_FILES
from kb.content.articles import load_categories
from kb.content.articles import read_article_file
from kb.content.articles import with_category_slug
from kb.errors import KbError
from kb.errors import errors_in
from kb.fsutil import atomic_write_bytes
from kb.fsutil import fsync_dir
from kb.publishing import node_id as publisher_node_id
from kb.publishing import publish_lock
from kb.replication.catalog_batch import CatalogBatch
from kb.replication.collection import file_bytes
from kb.replication.collection import is_article
from kb.replication.collection import is_collection_path
from kb.replication.listener import ChangeListener
from kb.replication.local_edits import keep_as_conflict
from kb.replication.local_edits import publish_edits
from kb.replication.position import POSITION_FILE
from kb.replication.position import START
from kb.replication.position import Position
from kb.replication.position import at
from kb.replication.position import check_log
from kb.replication.position import lag
from kb.replication.position import read_position
from kb.replication.position import write_position
from kb.search.indexing import Manifest
from kb.store import changes

if TYPE_CHECKING:
    from kb.knowledge import KnowledgeBase
    from kb.store.db import Database

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 500  # changes read from the log per query
_DURABLE_ONE_BY_ONE = 8  # a batch of more files is written unsynced, then synced once (os.sync)


class Applier:
    """Applies the change log to one KnowledgeBase (its folder, index and catalog) while the
    node serves, and publishes the files changed on its disk (the watcher's finds)."""

    def __init__(self, knowledge: KnowledgeBase, database: Database, on_change: Callable[[], None] | None = None,
                 poll_seconds: float = POLL_SECONDS):
        self.knowledge = knowledge
        self.database = database
        self.node_id = publisher_node_id(knowledge)
        self.articles_dir = Path(knowledge.articles_dir)
        self.on_change = on_change
        self.poll_seconds = poll_seconds
        self.applied: Position = read_position(self._position_file)  # one reference: seq and change read together
        self._apply_lock = threading.Lock()
        # The database may be restarting: a failed round is retried after the poll interval.
        self._loop = BackgroundLoop("kb-replication", self.apply_pending, poll_seconds,
                                    failure="replication: applying changes failed", log=logger, wait=self._wait)
        self._listener = ChangeListener(database, poll_seconds, log=logger)
        self._caught_up_at: float | None = None  # monotonic time of the last poll that found nothing new

    # -- where this node is ----------------------------------------------------------------------

    @property
    def position(self) -> int:
        """The seq of the last change this process applied (0: none yet, or starting over)."""
        return self.applied.seq

    @property
    def _position_file(self) -> Path:
        return self.knowledge.store.root / POSITION_FILE

    def _save_position(self, change: changes.Change | None) -> None:
        """This process is at `change` (None: where it was); the folder's file keeps the furthest
        any of its workers got, with the change there (called under the publish lock, so workers
        do not overwrite each other's).  The file and the row first: this process is not at a
        position its health report and a restart would not show (a failure applies it again)."""
        applied = at(change) if change is not None and change.seq >= self.position else self.applied
        stored = read_position(self._position_file)
        if stored.seq < applied.seq or (stored.seq == applied.seq and stored.change is None):
            write_position(self._position_file, self.node_id, applied)
        changes.set_node_position(self.database.connection(), self.node_id, applied.seq, applied.applied_at)
        self.applied = applied

    def _log_rewritten(self, conn) -> str | None:
        """What shows that the database's change log is no longer the one this process's position
        refers to (:func:`~kb.replication.position.check_log`), or None."""
        applied, found = check_log(conn, self.applied)
        if found is None:
            self.applied = applied  # with the change, when an older position file had none
        return found

    def _start_over(self, conn, found: str, reconcile: bool = True) -> None:
        """The database went back in time: this process starts over from the start of the log,
        its file and its row in cluster_nodes too (that row otherwise keeps the furthest seq).
        Called under the publish lock.  `reconcile`: the folder made equal to the database first
        (the running applier; a start does it itself), before the position moves, so a failure
        is found again, and retried, at the next poll."""
        logger.warning("replication: the database's change log is not the one this node applied (%s): the database "
                       "was restored to an older state. Starting over from the start of the log: the files the "
                       "database holds are brought in, files only this node has are published again, and local "
                       "versions the database never held are kept as conflict revisions", found)
        self._caught_up_at = None  # not caught up until the log is applied again
        if reconcile:
            self._reconcile_folder(conn)
        write_position(self._position_file, self.node_id, START)
        changes.reset_node_position(conn, self.node_id)
        self.applied = START

    def _reconcile_folder(self, conn) -> None:
        """After a rewritten log: make the folder equal to the database (its whole log) before the
        log is applied again from its start.  Here, nothing more: applying the whole log brings
        in every file (:class:`~kb.replication.startup.Replicator` also publishes what only this
        folder has)."""

    # -- the changes of this node's disk (the watcher) -------------------------------------------------

    def publish_local(self, paths, conn=None, locked: bool = False) -> int:
        """Publish files changed on this node's disk (a ``git pull``), as the editor would: a
        revision and a change each.  A file whose content is one the change log has held since
        this node's position (written by the applier, or by a publish here) is no edit: no echo.
        Returns how many were published."""
        conn = conn or self.database.connection()
        paths = [p for p in dict.fromkeys(paths) if is_collection_path(p)]
        if not paths:
            return 0
        lock = publish_lock(self.knowledge.store.root) if not locked else contextlib.nullcontext()
        with lock:
            published = publish_edits(conn, self.articles_dir, paths, self.node_id,
                                      since=lambda: max(read_position(self._position_file).seq, self.position))
        if published:
            logger.info("published %d file(s) changed on this node's disk", published)
        return published

    # -- applying ----------------------------------------------------------------------------------

    def apply_pending(self) -> int:
        """Apply every change after this process's position; returns how many were applied."""
        conn = self.database.connection()
        applied = 0
        with self._apply_lock:
            while True:
                batch = changes.changes_after(conn, self.position, BATCH)
                # Checked after the read: a batch read from a log restored meanwhile is never applied.
                if (rewritten := self._log_rewritten(conn)) is not None:
                    if changes.head(conn) == 0:
                        # No log at all: a restore is loading the tables (or a new database): wait for it,
                        # rather than publish this whole folder into a half-filled database.
                        self._caught_up_at = None
                        return applied
                    with publish_lock(self.knowledge.store.root):
                        self._start_over(conn, rewritten)
                    continue  # the whole log, from its start
                if not batch:
                    break
                with publish_lock(self.knowledge.store.root):
                    # Read under the lock: a publish of this node in progress has committed by now,
                    # so its file is never replaced by the version before it.
                    states = changes.files(conn, [change.path for change in batch])
                    touched = self._apply(conn, sorted(states.values(), key=_apply_order))
                    self._save_position(batch[-1])
                applied += len(batch)
                if touched and self.on_change is not None:
                    self.on_change()
            self._caught_up_at = time.monotonic()  # the poll found nothing after self.position
        return applied

    def _apply(self, conn, states: list[changes.FileState]) -> bool:
        """Files, index and catalog for these files' current states; whether the catalog changed."""
        generation = self.knowledge.store.current()
        manifest = Manifest.load(generation) if generation is not None else None
        durable = len(states) <= _DURABLE_ONE_BY_ONE
        catalog = CatalogBatch(self.knowledge.catalog)
        try:
            touched = self._apply_each(conn, states, manifest, catalog, durable)
        finally:
            catalog.swap()  # what was indexed before a failed write is in the catalog too
        if not durable:
            os.sync()
        return touched

    def _apply_each(self, conn, states: list[changes.FileState], manifest: Manifest | None,
                    catalog: CatalogBatch, durable: bool) -> bool:
        touched = False
        for state in states:
            # A file that cannot be written stops the batch (the position stays: retried); a
            # file that cannot be indexed (an invalid article) is the same on every node: logged.
            on_disk = file_bytes(self.articles_dir / state.path)
            digest = changes.checksum(on_disk)
            if on_disk is not None and digest != state.checksum and not changes.ever_held(conn, state.path, digest):
                # Edited on this disk and not published yet (the watcher had not scanned), changed
                # on another node meanwhile: the cluster's version wins, this one is kept.
                self._keep_as_conflict(conn, state.path, on_disk)
            self._write_file(state, digest, durable)
            try:
                if state.path == CATEGORIES_FILE:
                    touched |= self._refresh_categories()
                elif is_article(state.path):
                    touched |= self._refresh_article(state, manifest, catalog)
            except Exception:  # noqa: BLE001 - the next change of the file, or the next start's reconcile, retries
                logger.exception("replication: could not index %s", state.path)
        return touched

    def _write_file(self, state: changes.FileState, on_disk: str, durable: bool = True) -> None:
        """The file made as the database holds it, atomically (readers see the old or the new
        file).  `on_disk`: the checksum of what the file holds now (the caller read it already).
        `durable` False: not synced one by one (the caller syncs the lot once)."""
        target = self.articles_dir / state.path
        if not target.resolve().is_relative_to(self.articles_dir.resolve()) or not is_collection_path(state.path):
            logger.error("replication: refused %r, not a file of the collection", state.path)
            return
        if state.deleted:
            if target.exists():
                target.unlink()
                if durable:
                    fsync_dir(target.parent)
        elif on_disk != state.checksum:
            # durable False: still atomic, but no fsync per file.  The database is the durable
            # copy, and the caller syncs the whole batch (os.sync) before the position moves,
            # so a power loss before that only means this node applies the batch again.
            atomic_write_bytes(target, state.data, durable=durable)  # type: ignore[arg-type]

    def _refresh_article(self, state: changes.FileState, manifest: Manifest | None, catalog: CatalogBatch) -> bool:
        path = self.articles_dir / state.path
        if state.deleted:
            gone = catalog.slugs_at(path)
            for slug in gone:
                entry = manifest.articles.get(slug) if manifest else None
                if entry is not None and entry.get("path") == state.path:
                    self.knowledge.delete(slug)
                catalog.put(slug, None)
            return bool(gone)
        article, problems = read_article_file(path, self.articles_dir, self.knowledge.settings.max_article_bytes)
        if article is None or errors_in(problems):
            logger.error("replication: %s is not a valid article: %s", state.path, "; ".join(map(str, problems)))
            return False
        article = with_category_slug(article, self.knowledge.catalog.categories)
        renamed = [slug for slug in catalog.slugs_at(path) if slug != article.slug]
        for slug in renamed:  # the file now says another slug: the old one leaves the index
            if manifest is not None and slug in manifest.articles:
                self.knowledge.delete(slug)
            catalog.put(slug, None)
        held = catalog.get(article.slug)
        entry = manifest.articles.get(article.slug) if manifest else None
        if manifest is not None and (entry is None or entry.get("checksum") != article.checksum
                                     or entry.get("path") != state.path):
            try:
                catalog.indexed(self.knowledge.upsert(path))  # it puts the article in the catalog itself
                return True
            except KbError as exc:
                logger.error("replication: could not index %s: %s", state.path, exc.message)
        if held is not None and held.checksum == article.checksum and held.path == article.path:
            return bool(renamed)
        catalog.put(article.slug, article)
        return True

    def _refresh_categories(self) -> bool:
        catalog = self.knowledge.catalog
        categories, problems = load_categories(self.articles_dir)
        errors = errors_in(problems)  # warnings (kb check shows them) do not stop it
        if errors:
            logger.error("replication: _categories.yml: %s", "; ".join(map(str, errors)))
            return False
        catalog.categories = categories
        catalog.articles = ArticleMap((slug, with_category_slug(a, categories)) for slug, a in catalog.articles.items())
        return True

    def _keep_as_conflict(self, conn, path: str, data: bytes) -> int:
        """A file edited here while the cluster changed it too: its text kept as a conflict
        revision (articles; the editors' YAML files under their file name) before it is replaced."""
        if not keep_as_conflict(conn, self.articles_dir, path, data):
            return 0
        logger.warning("%s was edited on this node's disk and changed on another node before it was published: the "
                       "other version wins, this one is kept in the history as a conflict", path)
        return 1

    # -- the thread ----------------------------------------------------------------------------------

    def start(self) -> Self:
        """Apply changes in the background from now on (``kb serve``)."""
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)
        self._listener.close()

    def wake(self) -> None:
        self._loop.wake()

    def _wait(self, seconds: float) -> None:
        """Until a notification, a wake(), or `seconds` (the poll interval)."""
        self._listener.wait(seconds, self._loop.sleep)

    @property
    def listening(self) -> bool:
        """Whether changes arrive by PostgreSQL notification (False: by the poll)."""
        return self._listener.listening

    # -- the health report ------------------------------------------------------------------------------

    def status(self) -> dict:
        """This node's lag behind the change log, for /api/v1/health and the staff landing page.

        While the applier thread polls and its last poll (within three poll intervals) found
        nothing after this process's position, the head is that position and nothing is
        behind: answered from memory, no query per request.  Otherwise (no thread, a catch-up
        in progress, the database failing) the change log is asked; a position the log no longer
        holds (the database went back in time) counts as 0: the node will apply it all again."""
        applied = self.applied  # one read: the applier thread replaces it
        if self._loop.running and self._caught_up_at is not None \
                and time.monotonic() - self._caught_up_at <= 3 * self.poll_seconds:
            head, behind, position = applied.seq, 0, applied.seq
        else:
            head, behind, position = lag(self.database.connection(), applied)
        return {"node_id": self.node_id, "applied_seq": position, "head_seq": head,
                "changes_behind": max(0, head - position), "seconds_behind": behind,
                "notifications": "listen" if self.listening else "poll", "running": self._loop.running}


def _apply_order(state: changes.FileState) -> tuple[int, str]:
    """Deletes first (a rename's old file goes before its new one is indexed), then the
    categories (articles take their slugs), then everything else."""
    return (0 if state.deleted else 1 if state.path in COLLECTION_FILES else 2, state.path)

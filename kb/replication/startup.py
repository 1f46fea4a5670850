"""A node's start: the folder made equal to the database before the node serves.

At start (:meth:`Replicator.prepare`, before the index is reconciled and before serving,
so a node never serves what the cluster has replaced): the first node with articles and
an empty database copies its folder in once; a node brings in what changed while it was
down (a new node with an empty folder: everything); and what was edited on its own disk
meanwhile (a ``git pull`` while stopped) is published like the watcher's finds.  A local
file that is neither an old version nor the current one, but which the cluster changed
too, is kept as a ``conflict`` revision before the cluster's version replaces it: nothing
is lost.  The same reconcile, from the start of the log, follows a database that went back
in time (restored to an older state while this node was down, or while it ran:
:meth:`Replicator._reconcile_folder`).

Apart from :mod:`.applier` because it runs once, before serving, and in both directions at
once; it builds on the applier's writes and publishes (:class:`Replicator` is the applier
plus this start), and :func:`start_applier` then hands the node to the running applier.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.publishing import publish_lock
from kb.replication.applier import BATCH
from kb.replication.applier import Applier
from kb.replication.collection import collection_paths
from kb.replication.collection import file_bytes
from kb.replication.collection import is_article
from kb.store import changes

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrepareReport:
    """What :meth:`Replicator.prepare` did before serving."""

    seeded: int  # files this node copied into an empty database
    fetched: int  # files written or deleted here from the database (missed while down, or a new node)
    published: int  # files edited on this node's disk while it was down, now in the database
    kept: int  # local edits the cluster had replaced: kept as conflict revisions
    position: int  # the seq this node is at now
    started_over: bool = False  # the database's log no longer held this node's position: reconciled from its start


class Replicator(Applier):
    """A node's replicator: the running :class:`~kb.replication.applier.Applier`, plus the
    start that brings its folder level with the database before it serves."""

    def prepare(self) -> PrepareReport:
        """Before the index is reconciled and before serving: seed, catch up, publish local edits."""
        conn = self.database.connection()
        seeded = 0
        if not changes.seeded(conn) and collection_paths(self.articles_dir):
            # (A node with an empty folder seeds nothing and marks nothing: a node with the
            # articles may be starting beside it; its seed then reaches this one as changes.)
            seeded = changes.seed(conn, self._read_folder, self.node_id)
        with publish_lock(self.knowledge.store.root):
            rewritten = self._log_rewritten(conn)
            if rewritten is not None:  # the database went back in time while this node was down
                self._start_over(conn, rewritten, reconcile=False)  # the sync below does it
            fetched, kept, published, last = self._sync_folder(conn)
            self._save_position(last)
        report = PrepareReport(seeded, fetched, published, kept, self.position, rewritten is not None)
        if seeded or fetched or published or kept:
            logger.info("replication: %d file(s) copied to the database, %d brought in, %d published, %d kept as "
                        "conflicts; at change %d", seeded, fetched, published, kept, self.position)
        return report

    def _reconcile_folder(self, conn) -> None:
        """The running applier found the database's log rewritten: the folder made equal to the
        database as at a start (its whole log), before the applier applies that log again from
        its start, which indexes what this brought in."""
        fetched, kept, published, _ = self._sync_folder(conn, start=0)
        logger.warning("replication: folder reconciled with the restored database: %d file(s) brought in, %d "
                       "published again, %d kept as conflicts; applying its change log again", fetched, published, kept)

    def _read_folder(self):
        for path in collection_paths(self.articles_dir):
            data = file_bytes(self.articles_dir / path)
            if data is not None:
                yield path, data

    def _sync_folder(self, conn, start: int | None = None) -> tuple[int, int, int, changes.Change | None]:
        """The folder made equal to the database: files the cluster changed since `start` (this
        node's position) are brought in; files edited here meanwhile are published."""
        start = self.position if start is None else start
        changed: list[changes.Change] = []
        while batch := changes.changes_after(conn, changed[-1].seq if changed else start, BATCH * 10):
            changed.extend(batch)
        remote = {change.path for change in changed}
        fetched = kept = 0
        for state in changes.files(conn, remote).values():
            on_disk = file_bytes(self.articles_dir / state.path)
            digest = changes.checksum(on_disk)
            if digest == state.checksum:
                continue
            if on_disk is not None and digest not in changes.states_since(conn, state.path, start) \
                    and not changes.ever_held(conn, state.path, digest):
                kept += self._keep_as_conflict(conn, state.path, on_disk)
            self._write_file(state, digest, durable=False)
            fetched += 1
        if fetched:
            os.sync()  # once for the lot (a new node writes thousands): on disk before the position moves
        local = set(collection_paths(self.articles_dir)) - remote
        live = changes.live_checksums(conn)
        edited = [path for path in local if changes.checksum(file_bytes(self.articles_dir / path)) != live.get(path)]
        if any(is_article(path) for path in local):
            # Deleted here while down (never when the folder holds no article at all: an empty or
            # lost folder is a node to fill, not a collection to empty).
            edited += [path for path in live if path not in remote and path not in local]
        published = self.publish_local(edited, conn=conn, locked=True) if edited else 0
        return fetched, kept, published, changed[-1] if changed else None


def prepare_node(app: Flask) -> Replicator:
    """This serving process's replicator, prepared (:meth:`Replicator.prepare`) before the
    index is reconciled (kb.serving.start_node); kept in ``app.extensions["kb_replication"]``
    for the health report.  Catching up before serving, not while serving: a node that
    answered from a stale folder would send readers to articles the cluster has deleted and
    let editors open versions it has replaced; a catch-up writes files only (the reconcile
    that follows indexes them in one pass), seconds even for a new node."""
    replicator = Replicator(app.extensions["kb"], app.extensions["kb_db"])
    replicator.prepare()
    app.extensions["kb_replication"] = replicator
    return replicator


def start_applier(app: Flask) -> Replicator:
    """Start applying changes in the background (kb.serving.start_node, after the watcher:
    the site's caches refresh on the same callback)."""
    replicator = app.extensions.get("kb_replication") or prepare_node(app)
    watcher = app.extensions.get("kb_watcher")
    if watcher is not None and watcher.on_change is not None:
        replicator.on_change = watcher.on_change
    return replicator.start()

"""Nodes that stay in step: every serving process applies the database's change log
(:mod:`kb.store.changes`) to its articles folder, its indexes and its catalog.

A package of its own because a node does two different things with the change log, at two
different times: :mod:`.startup` runs once before serving (seed an empty database, catch up,
publish what was edited on this disk while the node was down); :mod:`.applier` runs while
serving (apply each change as it arrives, publish the watcher's finds, report the lag).
:mod:`.collection` says which files the cluster shares (and writes them out for ``kb
export``); :mod:`.catalog_batch` keeps one batch's catalog refresh cheap; :mod:`.position`
says where a node is in the log, and whether the database's log is still the one it
applied (a database restored to an older state is not).

Import from the module that owns a name; this file re-exports nothing.
"""

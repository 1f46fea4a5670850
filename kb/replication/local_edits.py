"""What this node's own disk changed, going into the cluster: published, or kept as a conflict.

The other direction from :mod:`.applier`'s main work (the log made true on this disk): a file
edited here (a ``git pull``, an editor on the server) becomes a change of the log and a
revision, as the editor's publish would make; a file edited here while another node changed
it too is kept as a ``conflict`` revision before the cluster's version replaces it.  Apart
because both turn bytes found on this disk into the revisions table, with the rules that
keep them from echoing what the applier itself wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from kb.content import revisions
from kb.content.articles import article_text
from kb.content.articles import parse_article
from kb.replication.collection import file_bytes
from kb.replication.collection import is_article
from kb.store import changes


def publish_edits(conn, articles_dir: Path, paths: list[str], node_id: str, since: Callable[[], int]) -> int:
    """Record each file as this disk holds it: a change and a revision each, in one transaction
    under the change log's lock.  A file whose content is the current one is skipped, and so is
    one the log has held since `since()` (this node's position, read under the lock): the
    applier, or a publish of this node, wrote it; it is no edit (no echo).  Returns how many
    were published."""
    published = 0
    with conn.transaction():
        conn.lock(changes.LOCK)
        position = since()
        for path in paths:
            data = file_bytes(articles_dir / path)
            digest = changes.checksum(data)
            current = changes.current(conn, path)
            if digest == (current.checksum if current is not None and not current.deleted else ""):
                continue
            if current is not None and digest in changes.states_since(conn, path, position):
                continue  # in flight: the applier (or a publish of this node) wrote it
            previous = current.data if current is not None else None
            if changes.record(conn, path, data, node_id) is not None:
                _add_revision(conn, articles_dir, path, data, previous)
                published += 1
    return published


def _add_revision(conn, articles_dir: Path, path: str, data: bytes | None, previous: bytes | None) -> None:
    if not is_article(path):
        return
    source = data if data is not None else previous
    try:
        text = article_text(source or b"")
    except UnicodeDecodeError:
        return
    article, _ = parse_article(text, articles_dir / path, path)
    if article is None:
        return
    if data is None:
        revisions.add(conn, article.slug, "deleted", text, note="deleted on disk")
        return
    state = article.status if article.status in revisions.FILE_STATES else "draft"
    revisions.add(conn, article.slug, state, text, note="changed on disk")


def keep_as_conflict(conn, articles_dir: Path, path: str, data: bytes) -> bool:
    """Keep `data`, this disk's version of a file the cluster changed too, as a conflict revision
    (articles under their slug; the editors' YAML files under their file name).  False when it
    is not text, or is kept already."""
    try:
        text = article_text(data)
    except UnicodeDecodeError:
        return False
    slug = _slug_of(text, articles_dir / path) or path
    with conn.transaction():
        conn.lock(changes.LOCK)
        # Once for the cluster: after a restore, every node that kept its folder finds the same file.
        if any(r.state == "conflict" and r.text == text for r in revisions.history(conn, slug, limit=20)):
            return False
        revisions.add(conn, slug, "conflict", text, note="edited on this node's disk while the cluster changed it")
    return True


def _slug_of(text: str, path: Path) -> str | None:
    article, _ = parse_article(text, path, path.name)
    return article.slug if article is not None else None

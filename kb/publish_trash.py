"""The editor's trash: deleting moves an article's file to ``articles/_trash/`` (a row in the
``trash`` table says where it came from), and restoring puts it back as it was.

:class:`Trash` is an object each :class:`kb.publishing.Publisher` holds (``trash_bin``; the
Publisher's ``delete``, ``trash``, ``trash_item`` and ``restore_from_trash`` hand over to it).
It writes through the Publisher it is given, with the Publisher's own write path (its lock,
change log and index updates), so a delete or a restore is one transaction recorded for every
node like any other save."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.content import redirects
from kb.content import revisions
from kb.content.articles import article_text
from kb.errors import KbError
from kb.fsutil import atomic_write_text
from kb.fsutil import fsync_dir
from kb.store import audit
from kb.store import changes

if TYPE_CHECKING:
    from kb.publish_results import SaveResult
    from kb.publishing import Publisher

TRASH_DIR = "_trash"


@dataclass(frozen=True)
class TrashItem:
    id: int
    slug: str
    title: str
    original_path: str
    trash_path: str
    deleted_by: str | None
    deleted_at: str


class Trash:
    """Delete and restore for one :class:`kb.publishing.Publisher`, through its write path."""

    def __init__(self, publisher: Publisher):
        self._publisher = publisher

    def delete(self, slug: str, user=None) -> TrashItem:
        """Move the file to articles/_trash/ and take the article out of the indexes."""
        publisher, db, articles_dir = self._publisher, self._publisher.db, self._publisher.articles_dir
        with publisher.locked() as after:
            article = publisher.article(slug)
            text = publisher.live_text(article)
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            target = articles_dir / TRASH_DIR / f"{slug}--{stamp}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(article.path, target)
            if publisher.file_text(target) != text:  # this node had not applied the latest version yet
                atomic_write_text(target, text)
            fsync_dir(target.parent)
            fsync_dir(article.path.parent)
            publisher.record_file(article.path, None)
            publisher.record_file(target, text)
            trash_id = db.execute(
                "INSERT INTO trash (slug, title, original_path, trash_path, deleted_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (slug, article.title, str(article.path.relative_to(articles_dir)),
                 str(target.relative_to(articles_dir)), getattr(user, "email", None)),
            ).fetchone()[0]
            revisions.add(db, slug, "deleted", text, user)
            audit.record(db, "article_deleted", slug, user, trash=str(target.relative_to(articles_dir)))
            after.unindex(slug)
        return self.item(trash_id)  # type: ignore[return-value]

    def items(self) -> list[TrashItem]:
        """What is in the trash, the latest deletion first."""
        return [TrashItem(**dict(row)) for row in self._publisher.db.execute("SELECT * FROM trash ORDER BY id DESC")]

    def item(self, trash_id: int) -> TrashItem | None:
        row = self._publisher.db.execute("SELECT * FROM trash WHERE id = ?", (trash_id,)).fetchone()
        return TrashItem(**dict(row)) if row else None

    def restore(self, trash_id: int, user=None) -> SaveResult:
        """Put a deleted article back where it was (as it was: published or draft)."""
        publisher, db, articles_dir = self._publisher, self._publisher.db, self._publisher.articles_dir
        started = time.monotonic()
        with publisher.locked() as after:
            item = self.item(trash_id)
            if item is None:
                raise KbError("not_found", "العنصر غير موجود في سلة المحذوفات.", status=404)
            source = articles_dir / item.trash_path
            target = articles_dir / item.original_path
            if target.exists() or publisher.slug_taken(item.slug):
                raise KbError("slug_taken", f"يوجد الآن مقال بالرابط «{item.slug}»: غيّر رابطه أولًا ثم أعد المحاولة.", status=409)
            # The database's copy: the trash file may have been made on another node.
            kept = changes.current(db, publisher.relative(source))
            text = article_text(kept.data) if kept is not None and not kept.deleted else publisher.file_text(source)
            atomic_write_text(target, text)
            source.unlink(missing_ok=True)
            fsync_dir(source.parent)
            publisher.record_file(target, text)
            publisher.record_file(source, None)
            db.execute("DELETE FROM trash WHERE id = ?", (trash_id,))
            revision = revisions.add(db, item.slug, "restored", text, user)
            redirects.remove(db, redirects.article_path(item.slug))
            audit.record(db, "article_restored", item.slug, user)
            after.index(target)
        catalog = publisher.knowledge.catalog.articles
        status = catalog[item.slug].status if item.slug in catalog else "draft"
        return publisher.result(item.slug, status, revision.id, after.index_error, started)

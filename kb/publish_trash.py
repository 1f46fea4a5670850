"""The editor's trash: deleting moves an article's file to ``articles/_trash/`` (a row in the
``trash`` table says where it came from), and restoring puts it back as it was.

:class:`Trash` is the part of :class:`kb.publishing.Publisher` that does this, written
with the Publisher's own write path (its lock, change log and index updates), so a delete or
a restore is one transaction recorded for every node like any other save."""

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
    """Delete and restore, for :class:`kb.publishing.Publisher` (which provides the write path)."""

    def delete(self, slug: str, user=None) -> TrashItem:
        """Move the file to articles/_trash/ and take the article out of the indexes."""
        with self._locked() as after:
            article = self.article(slug)
            text = self.live_text(article)
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            target = self.articles_dir / TRASH_DIR / f"{slug}--{stamp}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(article.path, target)
            if self._file_text(target) != text:  # this node had not applied the latest version yet
                atomic_write_text(target, text)
            fsync_dir(target.parent)
            fsync_dir(article.path.parent)
            self._record(article.path, None)
            self._record(target, text)
            trash_id = self.db.execute(
                "INSERT INTO trash (slug, title, original_path, trash_path, deleted_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (slug, article.title, str(article.path.relative_to(self.articles_dir)),
                 str(target.relative_to(self.articles_dir)), getattr(user, "email", None)),
            ).fetchone()[0]
            revisions.add(self.db, slug, "deleted", text, user)
            audit.record(self.db, "article_deleted", slug, user, trash=str(target.relative_to(self.articles_dir)))
            after.unindex(slug)
        return self.trash_item(trash_id)  # type: ignore[return-value]

    def trash(self) -> list[TrashItem]:
        return [TrashItem(**dict(row)) for row in self.db.execute("SELECT * FROM trash ORDER BY id DESC")]

    def trash_item(self, trash_id: int) -> TrashItem | None:
        row = self.db.execute("SELECT * FROM trash WHERE id = ?", (trash_id,)).fetchone()
        return TrashItem(**dict(row)) if row else None

    def restore_from_trash(self, trash_id: int, user=None) -> SaveResult:
        """Put a deleted article back where it was (as it was: published or draft)."""
        started = time.monotonic()
        with self._locked() as after:
            item = self.trash_item(trash_id)
            if item is None:
                raise KbError("not_found", "العنصر غير موجود في سلة المحذوفات.", status=404)
            source = self.articles_dir / item.trash_path
            target = self.articles_dir / item.original_path
            if target.exists() or self._slug_taken(item.slug):
                raise KbError("slug_taken", f"يوجد الآن مقال بالرابط «{item.slug}»: غيّر رابطه أولًا ثم أعد المحاولة.", status=409)
            # The database's copy: the trash file may have been made on another node.
            kept = changes.current(self.db, self.relative(source))
            text = article_text(kept.data) if kept is not None and not kept.deleted else self._file_text(source)
            atomic_write_text(target, text)
            source.unlink(missing_ok=True)
            fsync_dir(source.parent)
            self._record(target, text)
            self._record(source, None)
            self.db.execute("DELETE FROM trash WHERE id = ?", (trash_id,))
            revision = revisions.add(self.db, item.slug, "restored", text, user)
            redirects.remove(self.db, redirects.article_path(item.slug))
            audit.record(self.db, "article_restored", item.slug, user)
            after.index(target)
        status = self.knowledge.catalog.articles[item.slug].status if item.slug in self.knowledge.catalog.articles else "draft"
        return self._result(item.slug, status, revision.id, after.index_error, started)

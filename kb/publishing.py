"""Publishing: the editor's form (:mod:`kb.content.editing`) → an article file (atomically) → the indexes.

``articles/`` stays the source of truth.  A save builds the front matter and body, checks
them (:mod:`kb.publish_checks`: the form's fields, a link in use, the size limit, and the same
parser the loader uses, :func:`kb.content.articles.parse_article`), writes the
file with :func:`kb.fsutil.atomic_write_text` and then re-indexes that article only
(``KnowledgeBase.upsert``), so the change is searchable by keyword when the request
returns; its vectors follow in the background (``kb.backfill``).  The file, the revision
row (SQLite ``synchronous=FULL`` for the publish's writes) and the index change are all
on disk before the editor is told the article is saved: a crash or a power loss right
after the acknowledgement loses nothing.  If the index cannot be reached (busy, failing),
the save still stands, the editor is told the article is not searchable yet, and the
vector worker retries the index update until it succeeds.

Editing a published article does not touch the file until it is published again: the edit
is kept as a *pending* revision in the database (:mod:`kb.content.revisions`).  A save carries the
``base`` token of what the editor opened (file checksum + pending revision); if someone
saved in between, the save is refused as a :class:`Conflict` and kept as a ``conflict``
revision, so neither version is lost.  Deleting moves the file to ``articles/_trash/``.

Every write also records its change in the database's copy of the collection, in the same
transaction as its revision and audit rows (:mod:`kb.store.changes`), under a publish lock
that holds across machines: the other nodes apply it (:mod:`kb.replication`), and the save
token is checked against the database's version, so two editors on two nodes cannot both
win.  The index is updated once that transaction has committed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kb.store import audit
from kb.store import changes
from kb.content import redirects
from kb.content import revisions
from kb.content.articles import Article
from kb.content.articles import article_text
from kb.content.articles import text_checksum
from kb.store.db import Connection
from kb.store.db import durable
from kb.content.editing import ArticleForm
from kb.content.editing import form_from_text
from kb.content.editing import set_front_matter_field
from kb.content.editing import with_listed_category
from kb.errors import KbError
from kb.fsutil import atomic_write_text
from kb.fsutil import fsync_dir
from kb.content.media import MEDIA_DIR
from kb.content.media import MEDIA_URL
from kb.content.media import save_image
# The checks, the lock, the results and the trash live in their own modules; re-exported
# here, so ``from kb.publishing import ...`` keeps working for every name it had.
from kb.publish_checks import ACTIONS  # noqa: F401 - re-exported
from kb.publish_checks import check_action
from kb.publish_checks import validated_text
from kb.publish_lock import clean_up_articles  # noqa: F401 - re-exported
from kb.publish_lock import publish_lock
from kb.publish_results import Conflict
from kb.publish_results import Opened
from kb.publish_results import SaveResult
from kb.publish_trash import TRASH_DIR  # noqa: F401 - re-exported
from kb.publish_trash import Trash
from kb.publish_trash import TrashItem
from kb.text import slugify
from kb.translation import N_

if TYPE_CHECKING:
    from kb.knowledge import KnowledgeBase

logger = logging.getLogger(__name__)


class AfterCommit:
    """The index updates of one editor write, run once its transaction has committed (still
    under the publish lock).  The index never holds a version the database could still roll
    back: after a crash, the start-up reconcile compares the index's manifest with the
    files, and a file put back to the database's version must not find the index ahead of
    its manifest (Whoosh committed, the manifest not yet)."""

    def __init__(self, publisher: Publisher):
        self._publisher = publisher
        self._jobs: list[tuple[str, object]] = []
        self.index_error: str | None = None  # the first index update that failed (retried in the background)

    def index(self, path: Path) -> None:
        self._jobs.append(("index", path))

    def unindex(self, slug: str) -> None:
        self._jobs.append(("unindex", slug))

    def run(self) -> None:
        for kind, target in self._jobs:
            if kind == "unindex":
                self._publisher._unindex(target)  # type: ignore[arg-type]
            else:
                error = self._publisher._index(target)  # type: ignore[arg-type]
                self.index_error = self.index_error or error


class Publisher:
    """Saves, publishes, unpublishes, deletes and restores articles for one KnowledgeBase
    (deleting and restoring: its ``trash_bin``, a :class:`kb.publish_trash.Trash`).

    What it refuses (``KbError`` messages, the field errors of ``ValidationFailed``) is marked
    with ``N_``: it reads as English, and the staff pages show it in the staff UI's language."""

    def __init__(self, knowledge: KnowledgeBase, db: Connection, node: str | None = None, lang: str | None = None):
        """`node`: this node's name in the change log (:func:`node_id`), when the caller has
        it already (the staff views build a Publisher per request and keep the name per app).
        `lang`: the language of whoever is saving (the staff UI's), in which a refused
        category lists the known ones; None names them as _categories.yml does."""
        self.knowledge = knowledge
        self.db = db
        self.lang = lang
        self.articles_dir = Path(knowledge.articles_dir)
        self.node_id = node if node is not None else node_id(knowledge)
        self.trash_bin = Trash(self)

    # -- reading -------------------------------------------------------------------------------

    def article(self, slug: str) -> Article:
        article = self.knowledge.catalog.articles.get(slug)
        if article is None or not article.path.exists():
            raise KbError("not_found", N_("The article does not exist."), status=404)
        return article

    def file_text(self, path: Path) -> str:
        """The article file's text as saved (part of the write path the trash and taxonomy share)."""
        return article_text(path.read_bytes())

    def live_text(self, article: Article) -> str:
        """The article as published: the database's copy (the latest version, from whichever
        node saved it) when the collection is in the database, else the file."""
        state = changes.current(self.db, self.relative(article.path))
        if state is None:
            return self.file_text(article.path)
        if state.deleted:  # deleted or renamed on another node; this one has not applied it yet
            raise KbError("not_found", N_("The article does not exist."), status=404)
        return article_text(state.data)

    def relative(self, path: Path) -> str:
        """A file's name in the collection (kb.store.changes): its path under articles/."""
        return path.relative_to(self.articles_dir).as_posix()

    def record_file(self, path: Path, data: bytes | str | None) -> int | None:
        """Record in the change log (this transaction) that `path` now holds `data` (None: gone)."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return changes.record(self.db, self.relative(path), raw, self.node_id)

    def token(self, slug: str) -> str:
        """What a save must match: the published text's checksum and the pending revision's id
        (both from the database when it holds the collection, so a save on any node is checked
        against the saves of every node)."""
        text = self.live_text(self.article(slug))
        pending = revisions.pending(self.db, slug)
        return f"{text_checksum(text)}:{pending.id if pending else 0}"

    def open(self, slug: str) -> Opened:
        article = self.article(slug)
        text = self.live_text(article)
        pending = revisions.pending(self.db, slug)
        form = form_from_text(pending.text if pending else text, article.path)
        token = f"{text_checksum(text)}:{pending.id if pending else 0}"
        return Opened(slug, article.path, text, article, form, token, pending)

    def new_path(self, form: ArticleForm) -> Path:
        known = self.knowledge.catalog.categories.get(form.category)
        folder = known.slug if known else (slugify(form.category) or "general")
        return self.articles_dir / folder / f"{form.slug}.md"

    # -- saving --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self):
        """One save at a time: threads here, processes sharing this folder through a lock file
        beside the index, and every node through the database's publish lock, held by the one
        transaction that records the change with its revision and audit rows.  That
        transaction is committed (durably: fsynced on SQLite) when the block ends, before
        the editor is told the article is saved.  The index updates the block asks for
        (:class:`AfterCommit`) run after that commit, still under the lock."""
        with publish_lock(self.knowledge.store.root), durable(self.db):
            after = AfterCommit(self)
            with self.db.transaction():
                self.db.lock(changes.LOCK)
                yield after
            after.run()

    def _listed_category(self, form: ArticleForm, kept: str = "") -> tuple[ArticleForm, dict[str, str]]:
        """The form with its category as _categories.yml names it, and the category field's
        error if it names none (:func:`kb.content.editing.with_listed_category`)."""
        form, error = with_listed_category(form, self.knowledge.catalog.categories, kept, self.lang)
        return form, ({"category": error} if error else {})

    def slug_taken(self, slug: str, own_path: Path | None = None) -> bool:
        """Whether another article (not the one at `own_path`) has `slug`, here or on another node."""
        other = self.knowledge.catalog.articles.get(slug)
        if other is not None and (own_path is None or other.path.resolve() != own_path.resolve()):
            return True
        if own_path is None and any(self.articles_dir.glob(f"*/{glob_escape(slug)}.md")):
            return True
        # Taken on another node, and not applied here yet.
        own = self.relative(own_path) if own_path is not None else None
        return any(path != own for path in changes.live_named(self.db, f"{slug}.md"))

    def create(self, form: ArticleForm, action: str, user=None) -> SaveResult:
        """A new article, written to its file as a draft or published."""
        check_action(action)
        started = time.monotonic()
        with self.locked() as after:
            form, errors = self._listed_category(form)
            path = self.new_path(form)
            status = "published" if action == "publish" else "draft"
            text = validated_text(form, status, path, lambda slug: self.slug_taken(slug) or path.exists(),
                                  self.knowledge.settings.max_article_bytes, errors)
            atomic_write_text(path, text)
            self.record_file(path, text)
            revision = revisions.add(self.db, form.slug, status, text, user, note="created")
            redirects.remove(self.db, redirects.article_path(form.slug))
            audit.record(self.db, "article_published" if action == "publish" else "article_created", form.slug, user)
            after.index(path)
        return self.result(form.slug, status, revision.id, after.index_error, started)

    def save(self, slug: str, form: ArticleForm, action: str, base: str, user=None, note: str = "") -> SaveResult:
        """Save an edit: a published article's draft stays pending; publishing writes the file."""
        check_action(action)
        started = time.monotonic()
        with self.locked() as after:
            article = self.article(slug)
            current = self.token(slug)
            live_status = article.status
            pending_only = action == "draft" and live_status == "published"
            # A pending edit is stored as it would go live, so its diff shows only what the editor changed.
            status = "published" if action == "publish" or pending_only else "draft"
            renaming = form.slug != slug and not pending_only
            path = article.path.with_name(f"{form.slug}.md") if renaming else article.path
            form, errors = self._listed_category(form, kept=article.category)
            text = validated_text(
                form, status, path,
                lambda new: new != slug and (self.slug_taken(new) or (renaming and path.exists())),
                self.knowledge.settings.max_article_bytes, errors,
            )
            if base != current:
                # Kept as a conflict revision, committed with the block: raised after it.
                conflict = self._conflict(slug, article, text, current, user)
            elif pending_only:
                revision = revisions.add(self.db, slug, "pending", text, user, note=note)
                audit.record(self.db, "draft_saved", slug, user, pending=True)
                return SaveResult(slug, "pending", revision.id, None, time.monotonic() - started)
            else:
                atomic_write_text(path, text)
                self.record_file(path, text)
                if renaming:
                    self._finish_rename(article, path, form.slug, user, after)
                revision = revisions.add(self.db, form.slug, status, text, user, note=note)
                audit.record(self.db, "article_published" if action == "publish" else "draft_saved", form.slug, user)
                after.index(path)
        if base != current:
            raise conflict
        return self.result(form.slug, status, revision.id, after.index_error, started)

    def _conflict(self, slug: str, article: Article, yours: str, current: str, user) -> Conflict:
        pending = revisions.pending(self.db, slug)
        theirs = pending.text if pending else self.live_text(article)
        # Who saved what is there now: unknown (None) if the file was changed outside the editor.
        author = next((r for r in revisions.history(self.db, slug, limit=50)
                       if r.state != "conflict" and r.checksum == text_checksum(theirs)), None)
        kept = revisions.add(self.db, slug, "conflict", yours, user, note="refused: changed since opened")
        return Conflict(theirs, yours, current, kept.id, author.user_email if author else None)

    def _finish_rename(self, article: Article, new_path: Path, new_slug: str, user, after: AfterCommit) -> None:
        """The new file is written: remove the old one, move history, leave a redirect."""
        old_slug = article.slug
        article.path.unlink(missing_ok=True)
        fsync_dir(article.path.parent)
        self.record_file(article.path, None)
        after.unindex(old_slug)
        revisions.rename(self.db, old_slug, new_slug)
        redirects.add(self.db, redirects.article_path(old_slug), redirects.article_path(new_slug))
        audit.record(self.db, "slug_renamed", new_slug, user, old=old_slug)

    def _index(self, path: Path) -> str | None:
        """Re-index one file; a failure is logged and reported, the saved file stays and the
        vector worker retries the update until it reaches the index."""
        try:
            self.knowledge.upsert(path)
        except Exception as exc:  # noqa: BLE001 - the file is saved; retried in the background
            reason = getattr(exc, "message", None) or str(exc)
            logger.exception("saved %s but could not index it yet; retrying in the background", path)
            self.knowledge.vector_worker.retry_later(path, reason)
            self.knowledge.start_vector_worker()
            return reason
        return None

    def result(self, slug: str, state: str, revision_id: int, index_error: str | None, started: float) -> SaveResult:
        """What a save reports: its state, revision, index error and time, and whether the article
        is searchable by keyword only until its vectors are in."""
        pending = index_error is None and self.knowledge.index_status(slug) == "keyword_only"
        return SaveResult(slug, state, revision_id, index_error, time.monotonic() - started, pending)

    def _unindex(self, slug: str) -> None:
        try:
            self.knowledge.delete(slug)
        except Exception:  # noqa: BLE001 - same as _index
            logger.exception("could not remove %s from the index", slug)

    def unpublish(self, slug: str, user=None) -> SaveResult:
        """Take a published article offline (its file becomes a draft); a pending edit is kept."""
        started = time.monotonic()
        with self.locked() as after:
            article = self.article(slug)
            if article.status != "published":
                raise KbError("not_published", N_("The article is not published."), status=400)
            text = set_front_matter_field(self.live_text(article), "status", "draft")
            atomic_write_text(article.path, text)
            self.record_file(article.path, text)
            revision = revisions.add(self.db, slug, "unpublished", text, user)
            audit.record(self.db, "article_unpublished", slug, user)
            after.index(article.path)
        return self.result(slug, "draft", revision.id, after.index_error, started)

    def discard_pending(self, slug: str, user=None) -> None:
        with self.locked():
            article = self.article(slug)
            revisions.add(self.db, slug, "discarded", self.live_text(article), user)
            audit.record(self.db, "pending_discarded", slug, user)

    def restore_revision(self, slug: str, revision_id: int, user=None) -> SaveResult:
        """Bring an old revision back as a draft (the pending edit of a published article)."""
        revision = revisions.get(self.db, revision_id)
        if revision is None or revision.slug != slug:
            raise KbError("not_found", N_("The revision does not exist."), status=404)
        article = self.article(slug)
        form = replace(form_from_text(revision.text, article.path), slug=slug)
        if self._listed_category(form, kept=article.category)[1]:
            # The revision's category is gone since (renamed: the categories page moved the
            # article to the new name): the article stays where it is now.
            form = replace(form, category=article.category)
        result = self.save(slug, form, "draft", self.token(slug), user, note=f"restored revision {revision_id}")
        audit.record(self.db, "revision_restored", slug, user, revision=revision_id)
        return result

    # -- the trash (kb.publish_trash) ---------------------------------------------------------

    def delete(self, slug: str, user=None) -> TrashItem:
        """Move the file to articles/_trash/ and take the article out of the indexes."""
        return self.trash_bin.delete(slug, user)

    def trash(self) -> list[TrashItem]:
        """What is in the trash, the latest deletion first."""
        return self.trash_bin.items()

    def trash_item(self, trash_id: int) -> TrashItem | None:
        return self.trash_bin.item(trash_id)

    def restore_from_trash(self, trash_id: int, user=None) -> SaveResult:
        """Put a deleted article back where it was (as it was: published or draft)."""
        return self.trash_bin.restore(trash_id, user)

    # -- media ---------------------------------------------------------------------------------

    def upload_image(self, filename: str, data: bytes, user=None) -> str:
        """Store an image from the editor (kb.content.media) and record it for every node;
        returns its URL."""
        with self.locked():
            url = save_image(self.articles_dir, filename, data)
            self.record_file(self.articles_dir / MEDIA_DIR / url.removeprefix(MEDIA_URL), data)
            audit.record(self.db, "image_uploaded", url, user)
        return url


def node_id(knowledge: KnowledgeBase) -> str:
    """This node's name in the change log: the ``node_id`` setting, else one made from the
    host name and the index folder (kb.store.changes.default_node_id)."""
    return knowledge.settings.node_id or changes.default_node_id(knowledge.store.root)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)

"""Revision history of articles, kept in the database (it does not need ``articles/`` to be git).

Each revision holds the whole file text as it was saved, who saved it and when.  The
``state`` says what happened to it: ``draft``/``published`` were written to the file,
``pending`` is an edit of a published article that is not live yet (kept only here, so the
live version stays online), ``unpublished``/``deleted``/``restored`` record those actions,
and ``conflict`` keeps a save refused because someone else saved first.

The pending draft of an article is its newest ``pending`` revision, unless a later revision
wrote the file (``draft``/``published``) or discarded it (``discarded``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from kb.content.articles import text_checksum
from kb.store.db import Connection
from kb.store.db import Row

FILE_STATES = ("draft", "published")
# A later revision in one of these states ends a pending draft.
_ENDS_PENDING = ("draft", "published", "discarded")

STATE_LABELS = {
    "draft": "مسودة",
    "published": "منشور",
    "pending": "تعديل غير منشور",
    "unpublished": "إلغاء النشر",
    "deleted": "حذف",
    "restored": "استعادة",
    "conflict": "نسخة متعارضة",
    "discarded": "تجاهل التعديلات",
}


@dataclass(frozen=True)
class Revision:
    id: int
    slug: str
    state: str
    text: str
    checksum: str
    user_email: str | None
    note: str
    created_at: str

    @property
    def label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "same" or "hunk"
    text: str


def _revision(row: Row | None) -> Revision | None:
    if row is None:
        return None
    return Revision(row["id"], row["slug"], row["state"], row["text"], row["checksum"], row["user_email"],
                    row["note"], row["created_at"])


def add(db: Connection, slug: str, state: str, text: str, user=None, note: str = "") -> Revision:
    row = db.execute(
        "INSERT INTO revisions (slug, state, text, checksum, user_id, user_email, note) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "RETURNING *",
        (slug, state, text, text_checksum(text), getattr(user, "id", None), getattr(user, "email", None), note),
    ).fetchone()
    return _revision(row)  # type: ignore[return-value]


def get(db: Connection, revision_id: int) -> Revision | None:
    return _revision(db.execute("SELECT * FROM revisions WHERE id = ?", (revision_id,)).fetchone())


def history(db: Connection, slug: str, limit: int = 200) -> list[Revision]:
    """Newest first."""
    rows = db.execute("SELECT * FROM revisions WHERE slug = ? ORDER BY id DESC LIMIT ?", (slug, limit))
    return [_revision(row) for row in rows]  # type: ignore[misc]


def pending(db: Connection, slug: str) -> Revision | None:
    """The unpublished edit of this article, if there is one."""
    marks = ",".join("?" * len(_ENDS_PENDING))
    row = db.execute(
        f"""SELECT * FROM revisions WHERE slug = ? AND state = 'pending'
            AND id > coalesce((SELECT max(id) FROM revisions WHERE slug = ? AND state IN ({marks})), 0)
            ORDER BY id DESC LIMIT 1""",
        (slug, slug, *_ENDS_PENDING),
    ).fetchone()
    return _revision(row)


def slugs_with_pending(db: Connection) -> set[str]:
    """Every article that has a pending draft (for the article list)."""
    rows = db.execute("SELECT DISTINCT slug FROM revisions WHERE state = 'pending'").fetchall()
    return {row["slug"] for row in rows if pending(db, row["slug"]) is not None}


def previous(db: Connection, revision: Revision) -> Revision | None:
    """The revision of the same article just before this one."""
    row = db.execute("SELECT * FROM revisions WHERE slug = ? AND id < ? ORDER BY id DESC LIMIT 1",
                     (revision.slug, revision.id)).fetchone()
    return _revision(row)


def rename(db: Connection, old_slug: str, new_slug: str) -> None:
    """Move an article's history to its new slug."""
    db.execute("UPDATE revisions SET slug = ? WHERE slug = ?", (new_slug, old_slug))


def diff(old_text: str, new_text: str, context: int = 3) -> list[DiffLine]:
    """A unified diff as typed lines, for display."""
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), lineterm="", n=context):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("del", line[1:]))
        else:
            lines.append(DiffLine("same", line[1:]))
    return lines

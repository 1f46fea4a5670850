"""Permanent redirects left behind when an article's slug or a category's slug changes.

Paths are stored decoded (as Flask's ``request.path`` has them: ``/articles/سياسة``), and
the target is encoded when the redirect is sent.  Chains are collapsed when added
(a → b, then b → c makes a → c), and a path that is live again loses its redirect.
"""

from __future__ import annotations

from urllib.parse import unquote

from kb.store.db import Connection
from kb.store.db import utc_timestamp
from kb.urls import article_url
from kb.urls import category_url


def article_path(slug: str) -> str:
    return unquote(article_url(slug))


def category_path(category_slug: str) -> str:
    return unquote(category_url(category_slug))


def add(db: Connection, old_path: str, new_path: str) -> None:
    """Redirect old_path to new_path from now on (and everything that pointed at old_path)."""
    if old_path == new_path:
        return
    db.execute("DELETE FROM redirects WHERE old_path = ?", (new_path,))
    db.execute("UPDATE redirects SET new_path = ? WHERE new_path = ?", (new_path, old_path))
    db.execute("INSERT INTO redirects (old_path, new_path, created_at) VALUES (?, ?, ?) "
               "ON CONFLICT (old_path) DO UPDATE SET new_path = excluded.new_path, created_at = excluded.created_at",
               (old_path, new_path, utc_timestamp()))


def remove(db: Connection, path: str) -> None:
    """Stop redirecting path (something lives there again)."""
    db.execute("DELETE FROM redirects WHERE old_path = ?", (path,))


def target(db: Connection, path: str) -> str | None:
    """Where path now lives (decoded), or None."""
    if "\x00" in path:  # a %00 in the URL: no stored path has one (and PostgreSQL refuses to compare it)
        return None
    row = db.execute("SELECT new_path FROM redirects WHERE old_path = ?", (path,)).fetchone()
    return row["new_path"] if row else None


def all_redirects(db: Connection) -> list[tuple[str, str]]:
    return [(row["old_path"], row["new_path"]) for row in db.execute("SELECT * FROM redirects ORDER BY old_path")]

"""Which files the cluster shares, and the whole collection written out as files.

Apart from the applier and the start-up because both use the same answer to "is this file
part of the collection?" (and so do ``kb export`` and the publishing tests): one rule, kept
in one place, with no knowledge of change positions or threads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from kb.content.articles import COLLECTION_FILES
from kb.content.media import MEDIA_DIR
from kb.content.media import MIME_TYPES
from kb.fsutil import TEMP_NAME
from kb.fsutil import atomic_write_bytes
from kb.publishing import TRASH_DIR
from kb.store import changes

if TYPE_CHECKING:
    from kb.store.db import Database


def is_article(path: str) -> bool:
    """An article of the collection (not a trash copy, not a file of the editors' settings)."""
    parts = path.split("/")
    return path.endswith(".md") and not any(part.startswith(("_", ".")) for part in parts)


def is_collection_path(path: str) -> bool:
    """Whether a path under articles/ is part of what the cluster shares."""
    parts = path.split("/")
    if not parts or any(part in ("", ".", "..") or part.startswith(".") for part in parts) or TEMP_NAME.match(parts[-1]):
        return False
    if len(parts) == 1 and parts[0] in COLLECTION_FILES:
        return True
    if parts[0] == MEDIA_DIR:
        return len(parts) > 1 and parts[-1].rsplit(".", 1)[-1].lower() in MIME_TYPES
    if parts[0] == TRASH_DIR:
        return len(parts) == 2 and path.endswith(".md")
    return is_article(path)


def collection_paths(articles_dir: Path) -> list[str]:
    """Every file of the collection in a folder, as relative '/' paths."""
    root = Path(articles_dir)
    found: list[str] = []
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        base = Path(folder).relative_to(root)
        for name in names:
            relative = (base / name).as_posix()
            if is_collection_path(relative):
                found.append(relative)
    return sorted(found)


def file_bytes(path: Path) -> bytes | None:
    """A file's bytes, or None when there is no file there (deleted, never written)."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def export_collection(articles_dir: Path, database: Database, target: Path, prune: bool = False) -> tuple[int, int]:
    """Write the whole collection as files into `target` (``kb export``, for git): the
    database's copy when it holds the collection, else the articles folder.  Trash copies
    are left out.  With `prune`, collection files in `target` the collection no longer has
    (deleted or renamed articles) are removed; nothing else there (``.git``, a README) is
    touched.  Returns (files written, files removed)."""
    conn = database.connection()
    target = Path(target)
    if changes.seeded(conn) and changes.head(conn):
        paths = [p for p in changes.live_checksums(conn) if not p.startswith(TRASH_DIR + "/")]
        wanted = {path: state.data for path, state in changes.files(conn, paths).items() if state.data is not None}
    else:
        wanted = {p: (Path(articles_dir) / p).read_bytes() for p in collection_paths(articles_dir)
                  if not p.startswith(TRASH_DIR + "/")}
    written = 0
    for path, data in sorted(wanted.items()):
        destination = target / path
        if file_bytes(destination) != data:
            atomic_write_bytes(destination, data)
            written += 1
    removed = 0
    if prune:
        for path in collection_paths(target):
            if path not in wanted and not path.startswith(TRASH_DIR + "/"):
                (target / path).unlink()
                removed += 1
    return written, removed

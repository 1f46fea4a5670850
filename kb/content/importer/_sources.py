"""The record of what was imported: which source file became which article.

Importing the same file again must not make a copy (``-2``) of the draft.  Every import
records the source file's path and SHA-256 and the article's slug and checksum in
``articles/imported/_sources.yml`` (a file the article loader skips, kept in git with the
articles).  On the next import of a file:

- the same content as a recorded import whose article still exists -> unchanged, skipped;
- the same path with new content, and the article untouched since its import -> updated in
  place (same slug and file, so links and edits elsewhere stay valid);
- the same path with new content, but the article edited since (or published) -> kept as
  it is, with a message: the staff's edits win over the newer source;
- anything else (a new file, or a recorded article that was deleted) -> a new draft.

A different document with the same title is a different source, so it still gets its own
slug.  The record is found by slug, so a draft moved to another folder is still found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.fsutil import atomic_write_text

logger = logging.getLogger(__package__)

SOURCES_FILE = "_sources.yml"
_HEADER = ("# kb import: the source file each imported article came from, so that importing a file\n"
           "# again updates or skips its draft instead of making a copy.  Written by kb import.\n")


@dataclass(frozen=True)
class SourceRecord:
    """One import: the source file (path and content hash) and the article it became."""

    source: str  # the source file's absolute path when imported
    sha256: str  # of the source file's bytes
    slug: str
    written: str  # checksum of the article text kb import wrote (Article.checksum): unchanged means untouched
    imported: dt.date


def source_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SourceLog:
    """The records of one articles folder's imports, loaded once per run and saved after each write."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / SOURCES_FILE
        self.records: list[SourceRecord] = self._load()

    def _load(self) -> list[SourceRecord]:
        if not self.path.exists():
            return []
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or []
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            # Only re-import detection is lost: the next save writes the file anew.
            logger.warning("%s is unreadable (%s): re-imports are not recognized this time", self.path, exc)
            return []
        records = []
        for item in data if isinstance(data, list) else []:
            try:
                records.append(SourceRecord(str(item["source"]), str(item["sha256"]), str(item["slug"]),
                                            str(item["written"]), _as_date(item.get("imported"))))
            except (KeyError, TypeError):
                continue
        return records

    def by_content(self, sha256: str, live_slugs) -> SourceRecord | None:
        """The import of the same content whose article still exists."""
        return next((r for r in reversed(self.records) if r.sha256 == sha256 and r.slug in live_slugs), None)

    def by_source(self, source: str, live_slugs) -> SourceRecord | None:
        """The last import of the same file path whose article still exists."""
        return next((r for r in reversed(self.records) if r.source == source and r.slug in live_slugs), None)

    def record(self, source: str, sha256: str, slug: str, written: str) -> None:
        """Remember an import (replacing the earlier record of the same slug) and save atomically."""
        self.records = [r for r in self.records if r.slug != slug]
        self.records.append(SourceRecord(source, sha256, slug, written, dt.date.today()))
        self.save()

    def save(self) -> None:
        rows = [asdict(r) for r in self.records]
        atomic_write_text(self.path, _HEADER + yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=10_000))


def _as_date(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return dt.date.today()

"""One batch of catalog refreshes, swapped in at the batch's end (used by :mod:`.applier`).

Apart from the applier because it is a data structure with an invariant of its own (the
path -> slugs map stays true while entries move) and knows nothing of files, indexes or the
change log.
"""

from __future__ import annotations

from pathlib import Path

from kb.content.articles import ArticleMap


class CatalogBatch:
    """The catalog entries one batch of changes refreshes, swapped in once at its end.

    A rename or delete needs the slugs held for a file's path: a map built once per batch
    instead of a scan of the whole catalog per change (10k comparisons at 10k articles), and
    one copy of the article mapping per batch instead of one per entry (readers iterating the
    old mapping are not disturbed).  Lookups see the batch's own entries first.
    """

    def __init__(self, catalog):
        self.catalog = catalog
        self.entries: dict[str, object | None] = {}  # slug -> Article, or None: leaves the catalog
        self._by_path: dict[Path, set[str]] | None = None
        self._path_of: dict[str, Path] = {}
        self._scanned = False

    def get(self, slug: str):
        return self.entries[slug] if slug in self.entries else self.catalog.articles.get(slug)

    def slugs_at(self, path: Path) -> list[str]:
        """The slugs the catalog (with this batch's entries) holds for an article file."""
        if self._by_path is None and not self._scanned:
            # The first look-up scans (a batch of one change, the usual publish, costs what it
            # did; building the map costs about two scans); the second builds the map.
            self._scanned = True
            found = {slug for slug, a in self.catalog.articles.items() if a.path == path and slug not in self.entries}
            return sorted(found | {slug for slug, a in self.entries.items() if a is not None and a.path == path})
        if self._by_path is None:
            self._by_path = {}
            for slug, article in self.catalog.articles.items():
                self._by_path.setdefault(article.path, set()).add(slug)
                self._path_of[slug] = article.path
            for slug, article in self.entries.items():
                self._move(slug, article)
        return sorted(self._by_path.get(path, ()))

    def put(self, slug: str, article) -> None:
        """`slug` holds `article` (None: it leaves the catalog) once the batch is swapped in."""
        self._move(slug, article)
        self.entries[slug] = article

    def indexed(self, article) -> None:
        """KnowledgeBase.upsert put `article` in the catalog itself: no entry of this batch may undo it."""
        self.entries.pop(article.slug, None)
        self._move(article.slug, article)

    def _move(self, slug: str, article) -> None:
        if self._by_path is None:
            return
        old = self._path_of.pop(slug, None)
        if old is not None:
            self._by_path[old].discard(slug)
        if article is not None:
            self._by_path.setdefault(article.path, set()).add(slug)
            self._path_of[slug] = article.path

    def swap(self) -> None:
        if not self.entries:
            return
        articles = ArticleMap(self.catalog.articles)  # the catalog keeps counting its changes (Catalog.version)
        for slug, article in self.entries.items():
            if article is None:
                articles.pop(slug, None)
            else:
                articles[slug] = article
        self.catalog.articles = articles
        self.entries = {}


"""Articles: Markdown files with YAML front matter under ``articles/``, validated on load.

Loading never stops at a bad file: every problem is reported with the file, the field and
the reason, and the good articles load regardless.  Files whose name starts with ``_`` are
not articles (``_categories.yml``, ``_synonyms.yml``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from pathlib import Path
from typing import Callable
from typing import TypeVar

import yaml

# The categories file and the front matter have modules of their own; their names stay
# importable from here, where the code that reads articles has always found them.
from kb.content.categories import CATEGORIES_FILE
from kb.content.categories import Category
from kb.content.categories import load_categories
from kb.content.categories import with_category_slug
from kb.content.front_matter import load_front_matter
from kb.content.front_matter import split_front_matter
from kb.content.front_matter import yaml_problem
from kb.errors import Problem
from kb.errors import errors_in
from kb.text import slugify
from kb.translation import N_
from kb.translation import os_error
from kb.urls import article_url

logger = logging.getLogger(__name__)
T = TypeVar("T")

STATUSES = ("published", "draft")
AUDIENCES = ("public", "internal")
LANGS = ("ar", "en")
KNOWN_FIELDS = {
    "title", "slug", "category", "tags", "lang", "audience", "status", "updated", "summary", "translation_of", "faq",
}
UNCATEGORIZED = "عام"
# The editors' files beside the articles that change what the site or the index shows (the
# categories, the synonyms, the dialect forms): not articles, yet part of the collection the
# watcher picks up and the cluster shares.
COLLECTION_FILES = (CATEGORIES_FILE, "_synonyms.yml", "_dialect.yml")


@dataclass(frozen=True)
class FaqEntry:
    q: str
    a: str

    def to_dict(self) -> dict:
        return {"q": self.q, "a": self.a}


@dataclass(frozen=True)
class Article:
    """One article as its file says, with defaults filled in."""

    slug: str
    title: str
    body: str
    path: Path
    category: str = UNCATEGORIZED
    category_slug: str = ""
    tags: tuple[str, ...] = ()
    lang: str = "ar"
    audience: str = "public"
    status: str = "published"
    updated: dt.date | None = None
    summary: str = ""
    translation_of: str | None = None
    faq: tuple[FaqEntry, ...] = ()
    checksum: str = ""

    @property
    def url(self) -> str:
        return article_url(self.slug)

    @cached_property
    def word_count(self) -> int:
        """Words in the body and FAQ answers: how much text keyword matching had to go on."""
        return len(self.body.split()) + sum(len(e.a.split()) for e in self.faq)

    @property
    def is_public(self) -> bool:
        """Customers may see it: published and meant for the public."""
        return self.status == "published" and self.audience == "public"


def _counted(method: Callable) -> Callable:
    """``dict`` ``method``, counting one change of the mapping once it has run."""

    def counted(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        self.changes += 1
        return result

    counted.__name__ = method.__name__
    return counted


class ArticleMap(dict):
    """A catalog's articles by slug, counting the changes made to it in place: a publish puts
    an article into the live catalog and a delete pops one (kb.indexer, kb.knowledge) without
    replacing the mapping, and :attr:`Catalog.version` must see that.  Reads are the dict's own."""

    changes = 0
    __setitem__ = _counted(dict.__setitem__)
    __delitem__ = _counted(dict.__delitem__)
    __ior__ = _counted(dict.__ior__)
    pop = _counted(dict.pop)
    popitem = _counted(dict.popitem)
    clear = _counted(dict.clear)
    update = _counted(dict.update)
    setdefault = _counted(dict.setdefault)


@dataclass
class Catalog:
    """Everything loaded from an articles folder.

    The live catalog changes in place (:class:`ArticleMap`) and has its articles and
    categories replaced (kb.replication); :attr:`version` follows both, so what is worked
    out from the whole catalog is worked out once per state (:meth:`derived`).  The category
    mapping is only ever replaced, never changed in place.
    """

    articles: dict[str, Article] = field(default_factory=ArticleMap)
    categories: dict[str, Category] = field(default_factory=dict)  # by display name
    problems: list[Problem] = field(default_factory=list)
    _derived: dict[str, tuple] = field(default_factory=dict, init=False, repr=False, compare=False)
    _replaced: int = field(default=0, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        if name in ("articles", "categories"):
            super().__setattr__("_replaced", self._replaced + 1)

    @property
    def errors(self) -> list[Problem]:
        return errors_in(self.problems)

    @property
    def version(self) -> tuple[int, int] | None:
        """Changes whenever the articles or the categories do; None when the articles are a
        plain dict (handed in by a caller, who may change it behind the catalog's back)."""
        if not isinstance(self.articles, ArticleMap):
            return None
        return self._replaced, self.articles.changes

    def derived(self, name: str, compute: Callable[[Catalog], T]) -> T:
        """``compute(self)``, kept under ``name`` until the catalog changes (:attr:`version`).
        The version is read before computing: a change meanwhile makes the next call compute
        again.  Two threads may both compute; either answer is of the state it was kept under."""
        version = self.version
        kept = self._derived.get(name)
        if version is not None and kept is not None and kept[0] == version:
            return kept[1]
        value = compute(self)
        if version is not None:
            self._derived[name] = (version, value)
        return value


def _as_text(value, name: str, problems: list[Problem], file: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    problems.append(Problem(file, name, N_("must be text, got %(type)s", type=type(value).__name__)))
    return None


def _parse_faq(value, file: str, problems: list[Problem]) -> tuple[FaqEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(Problem(file, "faq", N_("must be a list of {q, a} entries")))
        return ()
    entries = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not item.get("q") or not item.get("a"):
            problems.append(Problem(file, f"faq[{i}]", N_("each entry needs a non-empty 'q' and 'a'")))
            continue
        entries.append(FaqEntry(str(item["q"]).strip(), str(item["a"]).strip()))
    return tuple(entries)


def _parse_date(value, file: str, problems: list[Problem]) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:  # a timestamp such as "2026-11-25 10:00:00" or "2026-11-25T10:00:00Z" keeps its date
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        problems.append(Problem(file, "updated", N_("must be a date like 2026-11-25, got %(value)r", value=value)))
        return None


FRONT_MATTER = N_("front matter")  # the field of a Problem about the YAML block itself


def text_checksum(text: str) -> str:
    """An article text's ``checksum``: SHA-256 of its UTF-8, line ends as the loader reads them
    (\\n).  The one checksum of article texts: the index manifest, the editor's save token and
    the revisions table all hold it, so a revision and the file it became compare equal."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def parse_article(text: str, path: Path, file: str, default_category: str | None = None) -> tuple[Article | None, list[Problem]]:
    """Parse one article's text.  Returns the article (None if unusable) and its problems."""
    problems: list[Problem] = []
    if "\x00" in text:
        # Never in a text file; PostgreSQL's text cannot hold one, so the revision and the
        # change log of a cluster could not keep the article: refused here, for every path
        # (editor, import, a file on disk), before anything is written.
        return None, [Problem(file, "body", N_("contains a NUL character (byte 0), which a text article never holds: "
                                               "remove it"))]
    try:
        raw, body, yaml_line = split_front_matter(text)
    except ValueError as exc:
        return None, [Problem(file, FRONT_MATTER, exc.args[0])]
    if raw is None:
        return None, [Problem(file, FRONT_MATTER, N_("missing: the file must start with a '---' line, YAML, then '---'"))]
    try:
        meta = load_front_matter(raw) or {}
    except ValueError as exc:  # an explicit tag (!!timestamp 2026-13-45, !!int x) fails to build
        return None, [Problem(file, FRONT_MATTER, N_("invalid value: %(reason)s", reason=str(exc)))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = yaml_problem(exc)
        if mark is None:
            return None, [Problem(file, FRONT_MATTER, N_("invalid YAML: %(reason)s", reason=reason))]
        return None, [Problem(file, FRONT_MATTER, N_("invalid YAML at line %(line)d: %(reason)s",
                                                       line=mark.line + yaml_line, reason=reason))]
    if not isinstance(meta, dict):
        return None, [Problem(file, FRONT_MATTER, N_("must be a YAML mapping of field: value"))]

    for name in sorted(set(meta) - KNOWN_FIELDS):
        problems.append(Problem(file, name, N_("unknown field (ignored)"), severity="warning"))
    title = _as_text(meta.get("title"), "title", problems, file)
    if not title:
        problems.append(Problem(file, "title", N_("is required")))
        return None, problems
    slug = _as_text(meta.get("slug"), "slug", problems, file) or path.stem
    if slug != slug.strip() or "/" in slug or not slug or slug.startswith("_"):
        problems.append(Problem(file, "slug", N_("%(slug)r is not a valid slug (no '/', no leading '_')", slug=slug)))
        return None, problems
    category = _as_text(meta.get("category"), "category", problems, file) or default_category or UNCATEGORIZED
    tags_value = meta.get("tags") or []
    if isinstance(tags_value, str):
        tags_value = [t.strip() for t in tags_value.split(",")]
    if not isinstance(tags_value, list):
        problems.append(Problem(file, "tags", N_("must be a list of words")))
        tags_value = []
    tags = tuple(str(t).strip() for t in tags_value if str(t).strip())

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        value = _as_text(meta.get(name), name, problems, file) or allowed[0]
        if value not in allowed:
            problems.append(Problem(file, name, N_("unknown %(field)s %(value)r; use one of: %(allowed)s", field=name,
                                                           value=value, allowed=", ".join(allowed))))
            return allowed[0] if name != "status" else "draft"
        return value

    article = Article(
        slug=slug,
        title=title,
        body=body,
        path=path,
        category=category,
        category_slug=slugify(category),
        tags=tags,
        lang=choice("lang", LANGS),
        audience=choice("audience", AUDIENCES),
        status=choice("status", STATUSES),
        updated=_parse_date(meta.get("updated"), file, problems),
        summary=_as_text(meta.get("summary"), "summary", problems, file) or "",
        translation_of=_as_text(meta.get("translation_of"), "translation_of", problems, file),
        faq=_parse_faq(meta.get("faq"), file, problems),
        checksum=text_checksum(text),
    )
    return article, problems


def too_large(size: int, max_bytes: int) -> str:
    """The error for an article over the size limit (the ``max_article_bytes`` setting)."""
    return N_("the article is %(size).1f MB, over the limit of %(limit).1f MB (setting max_article_bytes): split it "
              "into several articles", size=size / 1e6, limit=max_bytes / 1e6)


def article_text(data: bytes) -> str:
    """An article file's bytes as text, the way every reader of articles sees it: UTF-8 with
    or without a byte-order mark (Windows editors add one), Windows line ends (\\r\\n) read
    as \\n, so a file saved on Windows has the same text and checksum as on Linux.  Raises
    UnicodeDecodeError for bytes that are not UTF-8."""
    return data.decode("utf-8-sig").replace("\r\n", "\n")


def read_article_file(path: Path, root: Path, max_bytes: int | None = None) -> tuple[Article | None, list[Problem]]:
    """Read and parse one file, reporting unreadable, too large or non-UTF-8 files as problems.

    A file over `max_bytes` is not read at all: indexing 20 MB would hold the index for
    minutes and embedding it would take most of an hour."""
    file = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        size = path.stat().st_size
        if max_bytes and size > max_bytes:
            return None, [Problem(file, None, too_large(size, max_bytes))]
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(file, None, N_("cannot read: %(reason)s", reason=os_error(exc)))]
    try:
        text = article_text(data)
    except UnicodeDecodeError as exc:
        return None, [Problem(file, None, N_("not UTF-8 (invalid byte at offset %(offset)d); save the file as UTF-8", offset=exc.start))]
    return parse_article(text, path, file)


def article_paths(root: Path) -> list[Path]:
    """Every article file under root, in a stable order (files starting with '_' excluded)."""
    return sorted(
        p for p in root.rglob("*.md")
        if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts)
    )


def load_articles(root: Path, max_bytes: int | None = None) -> Catalog:
    """Load every article and the category list; collect every problem, skip bad files
    (and files over `max_bytes`, the ``max_article_bytes`` setting)."""
    root = Path(root)
    catalog = Catalog()
    if not root.is_dir():
        catalog.problems.append(Problem(str(root), None, N_("articles folder does not exist")))
        return catalog
    catalog.categories, catalog.problems = load_categories(root)
    seen_in: dict[str, str] = {}
    for path in article_paths(root):
        article, problems = read_article_file(path, root, max_bytes)
        catalog.problems.extend(problems)
        if article is None:
            continue
        file = str(path.relative_to(root))
        if article.slug in seen_in:
            catalog.problems.append(
                Problem(file, "slug", N_("duplicate slug %(slug)r (also used by %(file)s)", slug=article.slug, file=seen_in[article.slug]))
            )
            continue
        seen_in[article.slug] = file
        catalog.articles[article.slug] = with_category_slug(article, catalog.categories)
    _check_links(catalog, root)
    return catalog


def _check_links(catalog: Catalog, root: Path) -> None:
    for article in catalog.articles.values():
        file = str(article.path.relative_to(root)) if article.path.is_relative_to(root) else str(article.path)
        if article.translation_of and article.translation_of not in catalog.articles:
            catalog.problems.append(
                Problem(file, "translation_of", N_("no article with slug %(slug)r", slug=article.translation_of))
            )
        if catalog.categories and article.category not in catalog.categories:
            catalog.problems.append(
                Problem(file, "category", N_("%(category)r is not listed in _categories.yml", category=article.category), severity="warning")
            )


def categories_in_use(catalog: Catalog) -> list[Category]:
    """Categories of the loaded articles, in the order of _categories.yml, then by name."""
    found: dict[str, Category] = {}
    for article in catalog.articles.values():
        found.setdefault(
            article.category,
            catalog.categories.get(article.category) or Category(article.category, article.category_slug),
        )
    return sorted(found.values(), key=lambda c: (c.order, c.name))

"""Files: kind, reading, a slug that collides with nothing, and an atomic, never-overwriting write
(the one exception: a re-imported source updates its own draft while nobody has edited it)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path

import yaml

from kb.content.articles import UNCATEGORIZED
from kb.content.articles import load_articles
from kb.content.articles import text_checksum
from kb.fsutil import atomic_write_text
from kb.text import slugify
from kb.translation import N_
from kb.translation import os_error

from ._categories import add_category
from ._categories import choose_category
from ._convert import ImportedDocument
from ._convert import convert_document
from ._sources import SourceLog
from ._sources import source_hash

logger = logging.getLogger(__package__)  # "kb.content.importer", the one logger of the whole package


IMPORT_FOLDER = "imported"
SLUG_MAX = 60
_KIND_BY_SUFFIX = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
                   ".html": "html", ".htm": "html", ".xhtml": "html"}


ACTIONS = ("created", "updated", "unchanged", "kept", "failed")


@dataclass(frozen=True)
class ImportResult:
    """One input file's outcome.

    ``action``: created (a new draft), updated (a re-imported file rewrote its own untouched
    draft), unchanged (the same content was imported before: skipped), kept (the file
    changed, but its draft was edited since: left alone) or failed (nothing written, see
    ``problems``).  ``path`` is the article's file, None when the import failed."""

    source: Path
    path: Path | None
    slug: str | None
    title: str | None
    problems: tuple[str, ...]
    action: str = "created"
    notes: tuple[str, ...] = ()  # what happened besides, e.g. why a file was skipped
    category: str | None = None  # of the article written


@dataclass(frozen=True)
class _Known:
    """An article already in the folder, as far as re-imports need it."""

    path: Path
    title: str
    category: str
    checksum: str


def detect_kind(path: Path, text: str) -> str:
    """From the extension; for unknown extensions, sniff the content for HTML tags or Markdown headings."""
    kind = _KIND_BY_SUFFIX.get(path.suffix.lower())
    if kind:
        return kind
    head = text[:4000]
    if re.search(r"<!doctype html|<(html|body|p|div|article|h[1-6])[\s>]", head, re.I):
        return "html"
    if re.search(r"^(#{1,6}\s|```)", head, re.M):
        return "markdown"
    return "text"


def _read_source(path: Path) -> tuple[bytes, str | None, str | None]:
    """(bytes, text, problem): unreadable and non-UTF-8 files are problems, not exceptions."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return b"", None, N_("cannot read: %(reason)s", reason=os_error(exc))
    try:
        return data, data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return data, None, N_("not UTF-8 (invalid byte at offset %(offset)d); save the file as UTF-8", offset=exc.start)


def make_slug(title: str | None, fallback: str) -> str:
    """slugify(title) (Arabic letters kept), cut at a word boundary near 60 characters."""
    slug = slugify(title or "")
    if len(slug) > SLUG_MAX:
        cut = slug[: SLUG_MAX + 1].rfind("-")
        slug = slug[:cut] if cut > 0 else slug[:SLUG_MAX]
    return slug.strip("-") or slugify(fallback)[:SLUG_MAX].strip("-") or "imported"


def taken_slugs(articles_dir: Path) -> set[str]:
    """Every slug in use: loaded articles' slugs plus every .md file stem (broken files too)."""
    return _known_articles(articles_dir)[0]


def _reserve_path(folder: Path, base: str, taken: set[str]) -> tuple[str, Path]:
    """Claim <slug>.md with O_CREAT|O_EXCL, trying base, base-2, base-3… so nothing is overwritten."""
    for n in range(1, 10_000):
        slug = base if n == 1 else f"{base}-{n}"
        if slug in taken:
            continue
        path = folder / f"{slug}.md"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return slug, path
    raise FileExistsError(f"no free slug for {base!r}")


def article_text(doc: ImportedDocument, title: str, category: str, today: dt.date) -> str:
    """The article file: YAML front matter (status: draft) and the Markdown body."""
    meta: dict = {"title": title, "category": category, "status": "draft", "lang": doc.lang, "updated": today}
    if doc.summary:
        meta["summary"] = doc.summary
    if doc.faq:
        meta["faq"] = [entry.to_dict() for entry in doc.faq]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=4096)
    return f"---\n{front}---\n\n{doc.body}"


def import_file(source: Path, articles_dir: Path, category: str | None, taken: set[str], *,
                sources: SourceLog | None = None, known: dict[str, _Known] | None = None) -> ImportResult:
    """Import one file as a draft; every failure is reported in ``problems``, never raised.

    With ``sources`` (the folder's import record) and ``known`` (its articles by slug), a
    file imported before is skipped, or updates its draft (see ``_sources``)."""
    data, text, problem = _read_source(source)
    if text is None:
        return ImportResult(source, None, None, None, (problem,), action="failed")
    if not text.strip():
        return ImportResult(source, None, None, None, (N_("empty file"),), action="failed")
    known = {} if known is None else known
    content_hash, origin = source_hash(data), str(source.resolve())
    earlier = None
    if sources is not None:
        same = sources.by_content(content_hash, known)
        if same is not None:
            article = known[same.slug]
            return ImportResult(source, article.path, same.slug, article.title, (), action="unchanged",
                                notes=(N_("imported before as %(path)s with the same content: skipped",
                                           path=str(article.path)),))
        earlier = sources.by_source(origin, known)
    if earlier is not None and known[earlier.slug].checksum != earlier.written:
        article = known[earlier.slug]
        return ImportResult(source, article.path, earlier.slug, article.title, (), action="kept",
                            notes=(N_("changed since its import as %(path)s, but that article was edited since: "
                                      "kept as it is (delete it to import the file again)", path=str(article.path)),))
    doc = convert_document(text, detect_kind(source, text))
    if not doc.body.strip() and not doc.faq:
        return ImportResult(source, None, None, doc.title,
                            (N_("empty after cleaning (%(count)d boilerplate lines removed)", count=doc.dropped),), action="failed")
    problems = list(doc.notes)
    title = doc.title
    if not title:
        title = source.stem
        problems.append(N_("no title found; used the file name %(title)r", title=title))
    try:
        if earlier is not None:
            slug, path, category, content = _rewrite(doc, title, category, earlier.slug, known[earlier.slug])
        else:
            slug, path, category, content = _write_new(doc, title, category, articles_dir, source, taken)
        if sources is not None:
            sources.record(origin, content_hash, slug, text_checksum(content))
    except OSError as exc:
        return ImportResult(source, None, None, title, (*problems, N_("cannot write: %(reason)s", reason=os_error(exc))),
                            action="failed")
    taken.add(slug)
    known[slug] = _Known(path, title, category, text_checksum(content))
    return ImportResult(source, path, slug, title, tuple(problems), action="updated" if earlier else "created",
                        category=category)


def _write_new(doc: ImportedDocument, title: str, category: str | None, articles_dir: Path, source: Path,
               taken: set[str]) -> tuple[str, Path, str, str]:
    """A new draft under a slug nothing uses: (slug, path, category, text written)."""
    folder = articles_dir / IMPORT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    slug, path = _reserve_path(folder, make_slug(title, source.stem), taken)
    category = category or UNCATEGORIZED
    content = article_text(doc, title, category, dt.date.today())
    try:
        atomic_write_text(path, content)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return slug, path, category, content


def _rewrite(doc: ImportedDocument, title: str, category: str | None, slug: str,
             article: _Known) -> tuple[str, Path, str, str]:
    """The source changed and its draft did not: the draft follows the file (same slug and path)."""
    category = category or article.category
    content = article_text(doc, title, category, dt.date.today())
    atomic_write_text(article.path, content)
    return slug, article.path, category, content


def _known_articles(articles_dir: Path) -> tuple[set[str], dict[str, _Known]]:
    """(every slug in use, the loadable articles by slug): one load of the folder per run."""
    if not articles_dir.is_dir():
        return set(), {}
    catalog = load_articles(articles_dir)
    known = {slug: _Known(a.path, a.title, a.category, a.checksum) for slug, a in catalog.articles.items()}
    return set(known) | {p.stem for p in articles_dir.rglob("*.md")}, known


def import_files(paths: Iterable[Path], articles_dir: Path, category: str | None = None) -> list[ImportResult]:
    """Import each file as a draft under ``articles_dir/imported/``; one result per input file.

    ``category`` is a name or slug that ``_categories.yml`` lists (KbError otherwise, before
    anything is written); without it, the default category, which the first import adds to
    the list when it lacks it.  Files imported before are skipped or update their draft."""
    articles_dir = Path(articles_dir)
    choice = choose_category(articles_dir, category)
    if choice.note:
        logger.info("%s", choice.note)
    taken, known = _known_articles(articles_dir)
    sources = SourceLog(articles_dir / IMPORT_FOLDER)
    results: list[ImportResult] = []
    for source in paths:
        # No --category: None, so that a re-imported file's draft keeps the category it has.
        result = import_file(Path(source), articles_dir, choice.name if category else None, taken, sources=sources,
                             known=known)
        if result.category == choice.name and choice.needs_listing:
            added = add_category(articles_dir, choice.name)
            choice = replace(choice, needs_listing=False)
            result = replace(result, notes=(*result.notes, N_("added the category %(name)r (slug %(slug)s) to "
                                                              "_categories.yml", name=added.name, slug=added.slug)))
        if result.action == "failed":
            logger.warning("import %s failed: %s", result.source, "; ".join(result.problems),
                           extra={"reported": True})  # in the result, which kb import prints in its language
        else:
            logger.info("import %s: %s %s", result.source, result.action, result.path)
        results.append(result)
    return results

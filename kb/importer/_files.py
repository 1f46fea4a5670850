"""Files: kind, reading, a slug that collides with nothing, and an atomic, never-overwriting write."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.articles import UNCATEGORIZED
from kb.articles import load_articles
from kb.fsutil import atomic_write_text
from kb.text import slugify

from ._convert import ImportedDocument
from ._convert import convert_document

logger = logging.getLogger(__package__)  # "kb.importer", the one logger of the whole package


IMPORT_FOLDER = "imported"
SLUG_MAX = 60
_KIND_BY_SUFFIX = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
                   ".html": "html", ".htm": "html", ".xhtml": "html"}


@dataclass(frozen=True)
class ImportResult:
    """One input file's outcome; ``path`` is None when nothing was written (see ``problems``)."""

    source: Path
    path: Path | None
    slug: str | None
    title: str | None
    problems: tuple[str, ...]


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


def _read_source(path: Path) -> tuple[str | None, str | None]:
    """(text, problem): unreadable and non-UTF-8 files are problems, not exceptions."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (invalid byte at offset {exc.start}); save the file as UTF-8"


def make_slug(title: str | None, fallback: str) -> str:
    """slugify(title) (Arabic letters kept), cut at a word boundary near 60 characters."""
    slug = slugify(title or "")
    if len(slug) > SLUG_MAX:
        cut = slug[: SLUG_MAX + 1].rfind("-")
        slug = slug[:cut] if cut > 0 else slug[:SLUG_MAX]
    return slug.strip("-") or slugify(fallback)[:SLUG_MAX].strip("-") or "imported"


def taken_slugs(articles_dir: Path) -> set[str]:
    """Every slug in use: loaded articles' slugs plus every .md file stem (broken files too)."""
    if not articles_dir.is_dir():
        return set()
    slugs = set(load_articles(articles_dir).articles)
    return slugs | {p.stem for p in articles_dir.rglob("*.md")}


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


def import_file(source: Path, articles_dir: Path, category: str | None, taken: set[str]) -> ImportResult:
    """Import one file as a draft; every failure is reported in ``problems``, never raised."""
    text, problem = _read_source(source)
    if text is None:
        return ImportResult(source, None, None, None, (problem,))
    if not text.strip():
        return ImportResult(source, None, None, None, ("empty file",))
    doc = convert_document(text, detect_kind(source, text))
    if not doc.body.strip() and not doc.faq:
        return ImportResult(source, None, None, doc.title,
                            (f"empty after cleaning ({doc.dropped} boilerplate lines removed)",))
    problems = list(doc.notes)
    title = doc.title
    if not title:
        title = source.stem
        problems.append(f"no title found; used the file name {title!r}")
    folder = articles_dir / IMPORT_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        slug, path = _reserve_path(folder, make_slug(title, source.stem), taken)
        try:
            atomic_write_text(path, article_text(doc, title, category or UNCATEGORIZED, dt.date.today()))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    except OSError as exc:
        return ImportResult(source, None, None, title, (*problems, f"cannot write: {exc.strerror or exc}"))
    taken.add(slug)
    return ImportResult(source, path, slug, title, tuple(problems))


def import_files(paths: Iterable[Path], articles_dir: Path, category: str | None = None) -> list[ImportResult]:
    """Import each file as a draft under ``articles_dir/imported/``; one result per input file."""
    articles_dir = Path(articles_dir)
    taken = taken_slugs(articles_dir)
    results: list[ImportResult] = []
    for source in paths:
        result = import_file(Path(source), articles_dir, category, taken)
        if result.path is None:
            logger.warning("import %s failed: %s", result.source, "; ".join(result.problems))
        else:
            logger.info("imported %s as %s", result.source, result.path)
        results.append(result)
    return results

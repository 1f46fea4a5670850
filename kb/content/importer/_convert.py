"""One document's text -> an article draft: the pure pipeline, and the title, summary and language it proposes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from kb.content.articles import FaqEntry
from kb.content.articles import split_front_matter
from kb.translation import N_

from ._blocks import _SENTENCE_BREAK
from ._blocks import _TERMINAL
from ._blocks import Block
from ._blocks import _clean_heading
from ._blocks import _norm
from ._blocks import _plain_inline
from ._boilerplate import _COMMENTS_TITLE
from ._boilerplate import drop_boilerplate_blocks
from ._faq import _is_faq_marker
from ._faq import extract_faq
from ._html import html_to_blocks
from ._markdown import render_blocks
from ._text import text_to_blocks


KINDS = ("text", "markdown", "html")
SUMMARY_MAX = 200


@dataclass(frozen=True)
class ImportedDocument:
    """What one document becomes: the proposed title, the Markdown body and its metadata."""

    title: str | None
    body: str
    summary: str
    lang: str
    faq: tuple[FaqEntry, ...]
    dropped: int  # boilerplate lines, blocks and sentences removed
    notes: tuple[str, ...] = ()  # what a reviewer should check, e.g. a guessed title


# Title prefixes ('بحث بعنوان: …'); the first matches _norm(text), the second the raw text.
_TITLE_PREFIX_ALONE = re.compile(r"^((بحث|مقال|مقاله|دراسه|ورقه بحثيه|تقرير)\s+)?(بعنوان|تحت عنوان)\s*[:：]?$")
_TITLE_PREFIX = re.compile(r"^(?:(?:بحث|مقال|مقالة|دراسة|تقرير)\s+)?(?:بعنوان|تحت عنوان)\s*[:：]?\s+")


def _looks_like_title(block: Block) -> bool:
    if block.kind == "heading":
        return block.level <= 2
    return block.kind == "paragraph" and len(block.text) <= 120 and not block.text.endswith((*_TERMINAL, ":")) \
        and not _is_faq_marker(block.text) and bool(re.search(r"[^\W\d_]", block.text))


def _drop_byline(blocks: list[Block]) -> tuple[list[Block], int]:
    """Right under the title, 1-4 short lines then a heading are the author and affiliation."""
    run = 0
    while run < len(blocks) and run < 5 and blocks[run].kind == "paragraph" and len(blocks[run].text) <= 40 \
            and not re.search(r"[.!؟?:،,]", blocks[run].text):
        run += 1
    if 1 <= run <= 4 and run < len(blocks) and blocks[run].kind == "heading":
        return blocks[run:], run
    return blocks, 0


def take_title(blocks: list[Block], hints: Iterable[str]) -> tuple[str | None, list[Block], int]:
    """Propose a title: the leading heading-like line (taken out of the body), else a hint, else a heading.

    Hints are the HTML <title> or a post title named by a comment header ("2 comments on X").
    A heading deeper in the document is proposed but kept in the body, since it titles a section.
    """
    dropped = 0
    while blocks and _TITLE_PREFIX_ALONE.match(_norm(blocks[0].text)):
        blocks, dropped = blocks[1:], dropped + 1
    if blocks and _looks_like_title(blocks[0]):
        title = _clean_heading(_TITLE_PREFIX.sub("", blocks[0].text))
        rest, byline = _drop_byline(blocks[1:])
        if rest and rest[0].kind == "heading" and _clean_heading(rest[0].text) == title:
            rest = rest[1:]
        return title, rest, dropped + byline
    for hint in hints:
        if hint and hint.strip():
            return _clean_heading(hint), blocks, dropped
    heading = next((b for b in blocks if b.kind == "heading"), None)
    if heading is not None:
        return _clean_heading(heading.text), blocks, dropped
    return None, blocks, dropped


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ،,;؛:") + "…"


def make_summary(blocks: list[Block]) -> str:
    """The first sentence of the first paragraph, at most 200 characters."""
    paragraph = next((b.text for b in blocks if b.kind == "paragraph"), "")
    first = _SENTENCE_BREAK.split(" ".join(_plain_inline(paragraph).split()), maxsplit=1)[0]
    return _shorten(first, SUMMARY_MAX)


def guess_lang(text: str) -> str:
    """'ar' when Arabic letters are at least half of the letters, else 'en'."""
    arabic = sum(1 for ch in text if "\u0600" <= ch <= "\u06ff" and ch.isalpha())
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "ar" if arabic >= latin else "en"


def convert_document(text: str, kind: str) -> ImportedDocument:
    """Convert one document's text (kind: text, markdown or html) into an article draft. Pure."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; use one of: {', '.join(KINDS)}")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").lstrip("\ufeff")
    hints: list[str] = []
    if kind == "html":
        blocks, page_title, dropped = html_to_blocks(text)
        hints.append(page_title)
    else:
        if kind == "markdown":
            text, front_title = _strip_front_matter(text)
            hints.append(front_title)
        blocks, dropped = text_to_blocks(text, markdown=kind == "markdown")
    hints += [m.group(1) for b in blocks if b.kind in ("paragraph", "heading") and (m := _COMMENTS_TITLE.match(b.text))]
    blocks, dropped_blocks = drop_boilerplate_blocks(blocks)
    blocks, faq = extract_faq(blocks)
    title, blocks, dropped_title = take_title(blocks, [h for h in hints if h])
    body = render_blocks(blocks)
    notes = ()
    if title and any(b.kind == "heading" and _clean_heading(b.text) == title for b in blocks):
        notes = (N_("no title line; proposed the first heading %(title)r, which stays in the body", title=title),)
    return ImportedDocument(
        title=title or None,
        body=body,
        summary=make_summary(blocks),
        lang=guess_lang((title or "") + body + " ".join(e.q + e.a for e in faq)),
        faq=faq,
        dropped=dropped + dropped_blocks + dropped_title,
        notes=notes,
    )


def _strip_front_matter(text: str) -> tuple[str, str]:
    """A Markdown file's own YAML front matter: its title is a hint, the rest is body."""
    try:
        raw, body, _ = split_front_matter(text)
        meta = yaml.safe_load(raw) if raw is not None else None
    except (ValueError, yaml.YAMLError):
        return text, ""
    if not isinstance(meta, dict):
        return text, ""
    return body, str(meta.get("title") or "")

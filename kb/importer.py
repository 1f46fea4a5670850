"""kb import: bring existing documents (plain text, Markdown, HTML) in as draft articles.

Documents people already have are mostly copies of web pages: they carry tables of
contents, share and subscribe boxes, vendor call-to-action buttons, comment threads and
page footers, and copy-paste has flattened their headings and lists into plain lines.  The
pipeline is the same for every kind:

    text -> blocks (HTML parser, or line heuristics for text/Markdown)
         -> drop boilerplate (whole lines, blocks, then single sentences)
         -> FAQ pairs (س: … / ج: …) out of the body -> proposed title -> Markdown

Everything up to the Markdown is pure (:func:`convert_document`); :func:`import_files`
adds the I/O: reading, a slug that collides with nothing, and an atomic, never-overwriting
write to ``articles/imported/<slug>.md`` with ``status: draft``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import yaml

from kb.articles import UNCATEGORIZED
from kb.articles import FaqEntry
from kb.articles import load_articles
from kb.articles import split_front_matter
from kb.text import normalize_arabic
from kb.text import slugify

logger = logging.getLogger(__name__)

KINDS = ("text", "markdown", "html")
IMPORT_FOLDER = "imported"
SLUG_MAX = 60
SUMMARY_MAX = 200
_KIND_BY_SUFFIX = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
                   ".html": "html", ".htm": "html", ".xhtml": "html"}


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


@dataclass(frozen=True)
class ImportResult:
    """One input file's outcome; ``path`` is None when nothing was written (see ``problems``)."""

    source: Path
    path: Path | None
    slug: str | None
    title: str | None
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Block:
    """One unit of a document: heading, paragraph, list item, table, raw Markdown or a bare line.

    ``line`` is a plain-text line whose role (heading or paragraph) is not decided yet.
    ``level`` is the heading level, or the nesting depth of a list item; ``indent`` is the
    item's original indentation, from which the depth is derived.
    """

    kind: str
    text: str = ""
    level: int = 0
    number: int | None = None
    rows: tuple[tuple[str, ...], ...] = ()
    indent: int = 0
    after_gap: bool = False


# ---------------------------------------------------------------------------------------
# Boilerplate patterns.  They match normalize_arabic(text).lower(), so every spelling
# (أ/ا, ة/ه, tanween, shadda, tatweel) is covered by one form: write them normalized.

_SOCIAL = {"facebook", "twitter", "x", "whatsapp", "linkedin", "telegram", "pinterest", "reddit", "instagram",
           "فيسبوك", "فيس", "بوك", "تويتر", "واتساب", "واتس", "اب", "لينكد", "ان", "لينكدان", "تيليجرام",
           "تلغرام", "تليجرام", "انستغرام", "انستجرام", "email", "print", "طباعه", "بريد"}
_SHARE_WORDS = {"شارك", "شاركها", "شاركه", "مشاركه", "share", "tweet", "على", "علي", "عبر", "on", "via"}
_LINE_JUNK = [re.compile(p) for p in (
    r"^(شارك|شاركها|شاركه|مشاركه|share)"
    r"( (المقال|المقاله|الموضوع|هذا المقال|هذه المقاله|this( post| article)?))?\s*[:：]?$",
    r"^(تابعنا|تابعونا|follow us)\b.{0,60}$",
    r"^((نشرت?|نشر في|نشر بتاريخ|تاريخ النشر|تم النشر|اخر تحديث|تاريخ التحديث)\b|published|posted on|last updated"
    r"|updated on|updated:)[^.!؟?]{0,50}\d[^.!؟?]{0,30}$",
    r"^(بواسطه|كتبه|كتب بواسطه|الكاتب|المولف|by|author|written by)\s*[:：]?\s*[^\s.,،:]+(\s+[^\s.,،:]+){0,3}$",
    r"^(وقت القراءه|مده القراءه|reading time)\b.{0,30}$|^\d+\s*(دقائق|دقيقه|min)\b.{0,20}(قراءه|للقراءه|read)$",
    r"^[^.!؟?]{0,40}(»|›)[^.!؟?]{0,60}(»|›)",  # breadcrumbs: الرئيسية » المدونة » …
    r"(نستخدم|يستخدم هذا الموقع|we use|this (web)?site uses).{0,80}(ملفات تعريف الارتباط|الكوكيز|cookies)",
    r"^(المتابعه عبر البريد|النشره البريديه|النشره الاخباريه|القائمه البريديه|newsletter|subscribe)\b.{0,40}$",
    r"^(اقرا ايضا|اقرا المزيد|قد يهمك|قد يعجبك|read also|read more|you may also like)\b.{0,150}$",
    r"^(جميع الحقوق محفوظه|all rights reserved|copyright)\b|^.{0,60}جميع الحقوق محفوظه.{0,30}$",
)]
_TOC_TITLE = re.compile(r"^(جدول المحتويات|المحتويات|محتويات المقال|محتويات المقاله|فهرس المحتويات|فهرس المقال"
                        r"|table of contents|contents|in this article)\s*[:：]?$")
_RELATED_TITLE = re.compile(r"^(المنشورات ذات الصله|منشورات ذات صله|مقالات ذات صله|المقالات ذات الصله|مواضيع ذات صله"
                            r"|مقالات مشابهه|قد يعجبك ايضا|قد يهمك ايضا|اقرا ايضا|related posts|related articles"
                            r"|you may also like)\s*[:：]?$")
# A bare "التعليقات" may title a help section about a comments feature: a count or a post
# title ("التعليقات: 2 On …", "3 تعليقات") is what marks a page's comment thread.
_COMMENTS_START = re.compile(r"^(التعليقات|تعليقات|comments?|responses?|replies)\s*([:：(]\s*)?"
                             r"(\d+\)?(\s+(on|to|علي|حول|في)\s+.*)?|(on|to|علي|حول)\s+.*)$"
                             r"|^\d+\s+(تعليق|تعليقات|تعليقا|ردود|comments?|responses?|thoughts? on|replies)\b"
                             r"|^(اترك|اضف|اكتب)\s+(تعليقا|تعليق|ردا|رد|تعليقك)"
                             r"|^(leave a (comment|reply)|post a comment)"
                             r"|^(لا توجد تعليقات|كن اول من يعلق)")
_COMMENTS_TITLE = re.compile(r"^(?:التعليقات|تعليقات|\d+\s+(?:تعليقات?|comments?|responses?|thoughts?|replies))"
                             r"\s*[:：]?\s*\(?\d*\)?\s+(?:on|to|على|حول|في)\s+[«“\"']?(.+?)[»”\"']?\s*$", re.I)
# Sentence-level: calls to action, reader prompts, cross-promotion of the blog's other posts.
_CTA = re.compile(r"جرب(ها|ه)? (مجانا|الان)|ابدا (تجربتك|التجربه المجانيه|مجانا)|(اشترك|سجل) في (نسخه|فتره) تجريبيه"
                  r"|احصل علي (نسخه|فتره) تجريبيه|(احجز|اطلب) (عرضا|عرض) توضيحي|سجل (الان|مجانا)|اشترك الان"
                  r"|start (your )?free trial|try (it )?(for )?free|(book|request) a demo|sign up (now|for free)")
_PROMPT = re.compile(r"شاركنا|شاركونا|تشاركها معنا|اخبرنا في التعليقات|اكتب لنا في التعليقات|اترك تعليقا"
                     r"|let us know in the comments|share your thoughts|leave a comment")
_PROMO = re.compile(r"منشورنا|منشوراتنا|مدونتنا|مدونتي|منشوراتي|مقالاتي|لا تفوت (افضل|منشور|مقال|دليل)|عدم تفويت"
                    r"|سيصلك جديد|ليصلك جديد|(راجع|اقرا) (مقالتنا|مقالنا)"
                    r"|اشترك في (النشره|القائمه البريديه|قناتنا|مدونتنا)|check out our (post|article|blog)")
_FAQ_TITLE = re.compile(r"^(الاسئله الشائعه|اسئله شائعه|الاسئله المتكرره|اسئله متكرره|اسئله واجوبه|الاسئله والاجوبه"
                        r"|سوال وجواب|faq|frequently asked questions)\b.{0,30}$")
_SOURCES_TITLE = re.compile(r"^(المصادر|المراجع|المصادر والمراجع|المراجع والمصادر|مصادر|مراجع|مصادر ومراجع)\s*[:：]?$")
_TITLE_PREFIX_ALONE = re.compile(r"^((بحث|مقال|مقاله|دراسه|ورقه بحثيه|تقرير)\s+)?(بعنوان|تحت عنوان)\s*[:：]?$")
_TITLE_PREFIX = re.compile(r"^(?:(?:بحث|مقال|مقالة|دراسة|تقرير)\s+)?(?:بعنوان|تحت عنوان)\s*[:：]?\s+")

_Q = re.compile(r"^\s*(?:\*\*)?(?:س|سؤال|السؤال|Q|Question)\s*[0-9٠-٩]*\s*[:/：.)-]\s*(?:\*\*)?\s*(?P<text>\S.*)$", re.I)
_A = re.compile(r"^\s*(?:\*\*)?(?:ج|جواب|الجواب|الإجابة|الاجابة|إجابة|اجابة|A|Answer)\s*[0-9٠-٩]*\s*[:/：.)-]"
                r"\s*(?:\*\*)?\s*(?P<text>\S.*)$", re.I)
_A_INLINE = re.compile(r"(?<=[?؟])\s+(?:ج|جواب|الجواب|A)\s*[0-9٠-٩]*\s*[:/：]\s*")

_BULLET = re.compile(r"^(?P<indent>[ \t]*)[-•*·▪◦●○■□➢►✓✔–]\s+(?P<text>\S.*)$")
_BULLET_ALONE = re.compile(r"^[ \t]*[-•*·▪◦●]\s*$")
_NUMBERED = re.compile(r"^(?P<indent>[ \t]*)(?P<number>[0-9٠-٩۰-۹]{1,3})(?:[.)]\s*|[-–]\s+)(?P<text>[^\d\s.].*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_EMPTY_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*\)")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LABEL_LINE = re.compile(r"^(?P<label>[^:،.؟?!|*]{2,60}):\s+(?P<rest>\S.{19,})$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!؟?])\s+")
_TERMINAL = (".", "!", "،", ",", ";", "؛", "…")
_LATIN_NAME = re.compile(r"\b[A-Z][A-Za-z]{3,}\b")


def _norm(text: str) -> str:
    """The form the boilerplate patterns match: plain, Arabic-normalized, lowercased, no leading symbols."""
    text = " ".join(normalize_arabic(_plain_inline(text)).lower().split())
    return re.sub(r"^[^\w]+", "", text)


def _plain_inline(text: str) -> str:
    """Markdown inline markup -> the text a reader sees ([t](u) -> t, **b** -> b, <url> -> url)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)
    return text.replace("**", "").replace("\\", "").replace("*", "")


def is_boilerplate_line(text: str) -> bool:
    """A whole line or block that is page furniture: share/follow, dates, bylines, cookies, breadcrumbs."""
    norm = _norm(text)
    return bool(norm) and (any(p.search(norm) for p in _LINE_JUNK) or _is_social_line(norm))


def _is_social_line(norm: str) -> bool:
    """Share-button rows: 'شارك: فيسبوك تويتر واتساب', 'Facebook | Twitter | LinkedIn'."""
    words = re.findall(r"[^\W_]+", norm)
    social = sum(w in _SOCIAL for w in words)
    return social >= 2 and all(w in _SOCIAL or w in _SHARE_WORDS for w in words)


def _is_layout_junk(line: str) -> bool:
    """Empty image placeholders and lines of bare table pipes ('![]() |', '| |')."""
    if "|" not in line and "![" not in line:
        return False
    return not re.sub(r"[\s|]", "", _EMPTY_IMAGE.sub("", line))


def _is_faq_marker(text: str) -> bool:
    return bool(_Q.match(text) or _A.match(text))


def _repeated_lines(lines: Iterable[str]) -> set[str]:
    """Lines that occur 3+ times: page headers/footers of a converted PDF or a scraped site.

    Structure that legitimately repeats is left alone: list markers, table rows, Markdown
    headings, lines ending with ':' ("مثال:") and FAQ lines ("ج: نعم").
    """
    counts = Counter(line.strip() for line in lines if line.strip())
    return {
        line for line, count in counts.items()
        if count >= 3 and re.search(r"[^\W\d_]", line) and "|" not in line and not line.startswith("#")
        and not line.endswith((":", "：")) and not _is_faq_marker(line) and not _BULLET.match(line)
        and not _NUMBERED.match(line)
    }


def clean_lines(lines: list[str]) -> tuple[list[str | None], int]:
    """Line-level cleaning before structure recovery; a removed line becomes None.

    List items are only checked for share rows: 'بواسطة البريد' is a real item in a list of
    contact channels, not a byline.

    Footers and placeholders must go first: left in, they split paragraphs and hide the
    "short line followed by a longer paragraph" shape that marks a heading.
    """
    repeated = _repeated_lines(lines)
    cleaned: list[str | None] = []
    for line in lines:
        stripped = line.strip()
        is_item = bool(_BULLET.match(line) or _NUMBERED.match(line))
        furniture = _is_social_line(_norm(stripped)) if is_item else is_boilerplate_line(stripped)
        if stripped and (stripped in repeated or _is_layout_junk(stripped) or furniture):
            cleaned.append(None)
        else:
            cleaned.append(line.rstrip())
    return cleaned, sum(line is None for line in cleaned)


# ---------------------------------------------------------------------------------------
# Plain text and Markdown -> blocks


def _to_int(digits: str) -> int:
    return int("".join(str(unicodedata.digit(ch)) for ch in digits))


def _table_cells(line: str) -> tuple[str, ...]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") else line
    return tuple(cell.strip() for cell in line.split("|"))


class _LineReader:
    """Groups cleaned lines into blocks: items, tables, fences, headings (Markdown) and lines.

    In paragraph mode (the text uses blank lines) the lines of one paragraph are joined; in
    line mode every line is its own unit.  ``after_gap`` remembers a removed line in between.
    """

    def __init__(self, lines: list[str | None], paragraph_mode: bool, markdown: bool) -> None:
        self.lines = lines
        self.paragraph_mode = paragraph_mode
        self.markdown = markdown
        self.blocks: list[Block] = []
        self.paragraph: list[str] = []
        self.gap = False
        self.pending_gap = False
        self.bullet_indent: int | None = None  # a bullet glyph alone on the line before
        self.i = 0

    def read(self) -> list[Block]:
        while self.i < len(self.lines):
            line = self.lines[self.i]
            self.i += 1
            if line is None or not line.strip():
                self._flush()
                self.pending_gap = self.pending_gap or line is None
                continue
            if not self.paragraph:
                self.gap, self.pending_gap = self.pending_gap, False
            if not self._structured(line):
                self._text(line)
        self._flush()
        return self.blocks

    def _structured(self, line: str) -> bool:
        """Fences, tables, Markdown headings and quotes, list items: True when the line was one."""
        stripped = line.strip()
        following = self.lines[self.i] if self.i < len(self.lines) else None
        if self.markdown and _FENCE.match(line):
            self._add(Block("raw", self._fence(line)))
        elif "|" in stripped and _TABLE_SEPARATOR.match(following or ""):
            self._add(Block("table", rows=self._table(stripped)))
        elif self.markdown and (heading := _MD_HEADING.match(stripped)):
            self._add(Block("heading", heading.group(2), level=len(heading.group(1))))
        elif self.markdown and stripped.startswith(">"):
            self._add(Block("raw", stripped))
        elif _BULLET_ALONE.match(line):
            self._flush()
            self.bullet_indent = len(line) - len(line.lstrip())
        elif _BULLET.match(line) or _NUMBERED.match(line) or self.bullet_indent is not None:
            self._add(self._item(line))
        else:
            return False
        return True

    def _fence(self, opening: str) -> str:
        fence = [opening]
        while self.i < len(self.lines) and not _FENCE.match(self.lines[self.i] or ""):
            fence.append(self.lines[self.i] or "")
            self.i += 1
        fence.append(self.lines[self.i] or "```" if self.i < len(self.lines) else "```")
        self.i += 1
        return "\n".join(fence)

    def _table(self, header: str) -> tuple[tuple[str, ...], ...]:
        rows = [_table_cells(header)]
        self.i += 1  # the |---|---| separator
        while self.i < len(self.lines) and self.lines[self.i] and "|" in self.lines[self.i]:
            rows.append(_table_cells(self.lines[self.i]))
            self.i += 1
        return tuple(rows)

    def _item(self, line: str) -> Block:
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        match = bullet or numbered
        indent = len(match.group("indent").expandtabs(4)) if match else self.bullet_indent or 0
        text = match.group("text") if match else line.strip()
        number = _to_int(numbered.group("number")) if numbered and not bullet else None
        self.bullet_indent = None
        return Block("item", text.strip(), number=number, indent=indent, after_gap=self.gap)

    def _text(self, line: str) -> None:
        # Stray pipes around a non-table line are table-layout leftovers ("title |").
        stripped = line.strip().strip("|").strip() if "|" in line else line.strip()
        previous = self.blocks[-1] if self.blocks else None
        if not self.paragraph_mode:
            self._add(Block("line", stripped, after_gap=self.gap))
        elif previous is not None and previous.kind == "item" and not self.paragraph and line[:1].isspace():
            self.blocks[-1] = replace(previous, text=previous.text + " " + stripped)  # a wrapped list item
        else:
            self.paragraph.append(stripped)

    def _add(self, block: Block) -> None:
        self._flush()
        self.blocks.append(block)
        self.gap = False

    def _flush(self) -> None:
        if self.paragraph:
            self.blocks.append(Block("line", " ".join(self.paragraph), after_gap=self.gap))
            self.paragraph.clear()
            self.gap = False


def _join_page_breaks(blocks: list[Block]) -> list[Block]:
    """Rejoin a paragraph that a removed page footer cut in two (it ends mid-sentence)."""
    joined: list[Block] = []
    for block in blocks:
        previous = joined[-1] if joined else None
        if (block.kind == "line" and block.after_gap and previous is not None and previous.kind == "line"
                and len(previous.text) > 80 and not previous.text.endswith((*_TERMINAL, ":", "؟", "?", "»", '"', ")"))):
            joined[-1] = replace(previous, text=previous.text + " " + block.text)
        else:
            joined.append(block)
    return joined


def _nest_items(blocks: list[Block]) -> list[Block]:
    """List depth from indentation: the distinct indents of one list, in order, are depths 0, 1, 2…"""
    nested: list[Block] = []
    run: list[Block] = []
    for block in [*blocks, Block("end")]:
        if block.kind == "item":
            run.append(block)
            continue
        indents = sorted({item.indent for item in run})
        nested.extend(replace(item, level=indents.index(item.indent)) for item in run)
        run = []
        if block.kind != "end":
            nested.append(block)
    return nested


def _label_lists(blocks: list[Block]) -> list[Block]:
    """Three or more consecutive "Label: explanation" lines are a list: '- **Label:** explanation'."""
    result: list[Block] = []
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and blocks[j].kind == "line" and _LABEL_LINE.match(blocks[j].text) \
                and not _is_faq_marker(blocks[j].text):
            j += 1
        if j - i >= 3:
            for block in blocks[i:j]:
                match = _LABEL_LINE.match(block.text)
                result.append(Block("item", f"**{match.group('label').strip()}:** {match.group('rest')}"))
            i = j
        else:
            result.append(blocks[i])
            i += 1
    return result


def _is_heading_candidate(text: str, limit: int = 80) -> bool:
    """Short, no sentence end, a letter in it, not a FAQ line and not two sentences."""
    return (len(text) <= limit and not text.endswith(_TERMINAL) and bool(re.search(r"[^\W\d_]", text))
            and not _is_faq_marker(text) and not re.search(r"[.!؟?]\s", text))


def _is_paragraph_like(text: str) -> bool:
    """Body text rather than another title: long, or a finished sentence, or a question of the FAQ."""
    return len(text) > 80 or text.endswith((*_TERMINAL, ":", "：")) or bool(re.search(r"[.!؟?]\s", text)) \
        or _is_faq_marker(text)


def _numbered_headings(blocks: list[Block]) -> set[int]:
    """Indexes of "N. heading" items: numbered, short, followed by text rather than another item."""
    found: set[int] = set()
    for i, block in enumerate(blocks):
        if block.kind != "item" or block.number is None or block.level != 0:
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        previous = blocks[i - 1] if i else None
        previous_is_list_item = (previous is not None and previous.kind == "item" and previous.number is not None
                                 and (i - 1) not in found)
        if (following is not None and following.kind == "line" and not previous_is_list_item
                and _is_heading_candidate(block.text.rstrip(".:"), limit=120)):
            found.add(i)
    return found


def _is_line_heading(i: int, blocks: list[Block], numbered: set[int]) -> bool:
    """Is the short line at ``i`` a section title?  It is when what follows shows it:

    a longer line of body text, a list or table, or a "N. heading"; a line ending with ':'
    only when the next line is itself a lead-in ending with ':' (a lead-in alone is body).
    """
    text = blocks[i].text
    if _SOURCES_TITLE.match(_norm(text)):
        return True
    if not _is_heading_candidate(text):
        return False
    following = blocks[i + 1] if i + 1 < len(blocks) else None
    if following is None:
        return False
    if text.endswith((":", "：")):
        # "Section title:" then an intro line "Here is the list:" -- a lead-in alone is not a title.
        return following.kind == "line" and following.text.endswith((":", "："))
    if following.kind == "line":
        return len(following.text) > len(text) and _is_paragraph_like(following.text)
    return following.kind in ("table", "item")  # a list, a table, or a numbered heading under it


def _recover_structure(blocks: list[Block]) -> list[Block]:
    """Decide which plain lines and numbered items are headings; the rest are paragraphs."""
    blocks = _label_lists(blocks)
    numbered = _numbered_headings(blocks)
    line_headings = {i for i, b in enumerate(blocks) if b.kind == "line" and _is_line_heading(i, blocks, numbered)}
    result: list[Block] = []
    seen_plain_heading = False
    for i, block in enumerate(blocks):
        if i in line_headings:
            result.append(Block("heading", block.text, level=2))
            seen_plain_heading = seen_plain_heading or i > 0
        elif i in numbered:
            number = block.number
            result.append(Block("heading", f"{number}. {block.text}", level=3 if seen_plain_heading else 2))
        elif block.kind == "line":
            result.append(replace(block, kind="paragraph"))
        else:
            result.append(block)
    return result


def text_to_blocks(text: str, markdown: bool = False) -> tuple[list[Block], int]:
    """Plain text or Markdown -> blocks, with line-level boilerplate already removed."""
    raw_lines = text.split("\n")
    blank = sum(not line.strip() for line in raw_lines)
    paragraph_mode = blank >= 0.25 * (len(raw_lines) - blank)
    lines, dropped = clean_lines(raw_lines)
    blocks = _nest_items(_join_page_breaks(_LineReader(lines, paragraph_mode, markdown).read()))
    has_headings = any(b.kind == "heading" for b in blocks)
    if markdown and has_headings:
        return [replace(b, kind="paragraph") if b.kind == "line" else b for b in blocks], dropped
    return _recover_structure(blocks), dropped


# ---------------------------------------------------------------------------------------
# HTML -> blocks

_SKIP_TAGS = {"script", "style", "nav", "header", "footer", "aside", "form", "iframe", "noscript", "svg", "button",
              "template", "select", "canvas", "object", "embed", "video", "audio"}
_SKIP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog"}
_SKIP_CLASS_TOKENS = {"toc", "share", "sharing", "social", "related", "comments", "comment", "newsletter", "subscribe",
                      "subscription", "cookie", "cookies", "consent", "breadcrumb", "breadcrumbs", "sidebar", "widget",
                      "advert", "advertisement", "ads", "promo", "cta", "popup", "modal", "byline", "meta", "author"}
_VOID_TAGS = {"br", "img", "hr", "input", "meta", "link", "source", "wbr", "area", "col", "embed", "param", "track"}
_FLUSH_TAGS = {"p", "div", "section", "article", "main", "blockquote", "dl", "dt", "dd", "figure", "figcaption",
               "address", "body", "hr", "br", "pre"}
_STRONG, _EM = "\ue000", "\ue001"  # emphasis markers until the block text is final


def _is_skipped_element(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag in _SKIP_TAGS or "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    if (attrs.get("role") or "") in _SKIP_ROLES or "display:none" in (attrs.get("style") or "").replace(" ", ""):
        return True
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
    return bool(set(re.split(r"[\s_-]+", names)) & _SKIP_CLASS_TOKENS)


def _finish_inline(text: str) -> str:
    """Collapse whitespace and turn emphasis markers into Markdown, dropping empty or unpaired ones."""
    text = " ".join(text.split())
    for marker, markdown in ((_STRONG, "**"), (_EM, "*")):
        text = re.sub(f"{marker}\\s*([^{marker}]*?)\\s*{marker}",
                      lambda m, md=markdown: f"{md}{m.group(1)}{md}" if m.group(1) else "", text)
        text = text.replace(marker, "")
    return " ".join(text.split())


class _HtmlToBlocks(HTMLParser):
    """Stdlib HTML parser that keeps the readable structure and skips page furniture."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._inline: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._table: list[tuple[str, ...]] | None = None
        self._lists: list[list] = []  # [ordered, counter] per open list
        self._heading = 0
        self._in_title = False
        self._pre: list[str] | None = None
        self._links: list[tuple[str | None, int]] = []
        self.skipped = 0  # page-furniture elements left out

    @property
    def _buffer(self) -> list[str]:
        return self._cell if self._cell is not None else self._inline

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            self._skip_depth += tag == self._skip_tag
            return
        attributes = dict(attrs)
        if _is_skipped_element(tag, attributes):
            if tag not in _VOID_TAGS:
                self._skip_tag, self._skip_depth = tag, 1
                self.skipped += tag not in ("script", "style", "noscript", "template")
            return
        if tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = int(tag[1])
        elif tag in ("ul", "ol"):
            self._flush()
            self._lists.append([tag == "ol", 0])
        elif tag == "li":
            self._flush()
            if self._lists:
                self._lists[-1][1] += 1
        elif tag == "table":
            self._flush()
            self._table = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "pre":
            self._flush()
            self._pre = []
        elif tag in ("strong", "b"):
            self._buffer.append(_STRONG)
        elif tag in ("em", "i"):
            self._buffer.append(_EM)
        elif tag == "a":
            self._links.append((attributes.get("href"), len(self._buffer)))
        elif tag in _FLUSH_TAGS:
            if self._cell is not None or self._heading or tag == "br" and self._lists:
                self._buffer.append(" ")
            else:
                self._flush()

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if not self._skip_depth:
                    self._skip_tag = None
            return
        if tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = 0
        elif tag in ("ul", "ol"):
            self._flush()
            if self._lists:
                self._lists.pop()
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_finish_inline("".join(self._cell)).replace("|", "\\|"))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if any(self._row):
                self._table.append(tuple(self._row))
            self._row = None
        elif tag == "table" and self._table is not None:
            self._emit_table(self._table)
            self._table = None
        elif tag == "pre" and self._pre is not None:
            self.blocks.append(Block("raw", "```\n" + "".join(self._pre).strip("\n") + "\n```"))
            self._pre = None
        elif tag in ("strong", "b"):
            self._buffer.append(_STRONG)
        elif tag in ("em", "i"):
            self._buffer.append(_EM)
        elif tag == "a" and self._links:
            self._close_link(*self._links.pop())
        elif tag in _FLUSH_TAGS or tag == "li":
            if self._cell is None and not self._heading:
                self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip_tag is not None:
            return
        if self._in_title:
            self.title += data
        elif self._pre is not None:
            self._pre.append(data)
        else:
            # Text, not markup: a literal "<script>" or "*" in the page must stay text in Markdown.
            self._buffer.append(data.replace("<", "&lt;").replace("*", "\\*"))

    def close(self) -> None:
        super().close()
        self._flush()

    def _close_link(self, href: str | None, start: int) -> None:
        buffer = self._buffer
        if start > len(buffer):
            return
        label = "".join(buffer[start:])
        text = _finish_inline(label)
        if href and re.match(r"https?://", href, re.I) and text:
            lead = " " if label[:1].isspace() else ""
            trail = " " if label[-1:].isspace() else ""
            buffer[start:] = [f"{lead}[{text.replace(']', '')}]({href.replace(')', '%29')}){trail}"]

    def _flush(self) -> None:
        text = _finish_inline("".join(self._inline))
        self._inline = []
        self._links = []
        if not text:
            return
        if self._heading:
            self.blocks.append(Block("heading", text.replace("**", ""), level=self._heading))
        elif self._lists:
            ordered, counter = self._lists[-1]
            self.blocks.append(Block("item", text, level=len(self._lists) - 1, number=counter if ordered else None))
        else:
            self.blocks.append(Block("paragraph", text))

    def _emit_table(self, rows: list[tuple[str, ...]]) -> None:
        """A real table becomes a Markdown table; a one-column or layout table becomes paragraphs."""
        if not rows:
            return
        if len(rows) < 2 or max(len(r) for r in rows) < 2 or any(len(c) > 300 for r in rows for c in r):
            self.blocks.extend(Block("paragraph", cell) for row in rows for cell in row if cell)
        else:
            self.blocks.append(Block("table", rows=tuple(rows)))


def html_to_blocks(html: str) -> tuple[list[Block], str, int]:
    """HTML -> blocks, the page's <title> (a fallback for the article title), furniture elements skipped."""
    parser = _HtmlToBlocks()
    parser.feed(html)
    parser.close()
    title = " ".join(parser.title.split())
    # "Post title | Site name": the longest part is the post's own title.
    parts = [p.strip() for p in re.split(r"\s+[|–—-]\s+", title) if p.strip()]
    return parser.blocks, max(parts, key=len) if parts else "", parser.skipped


# ---------------------------------------------------------------------------------------
# Block-level boilerplate


def _scrub_sentences(text: str) -> tuple[str | None, int]:
    """Drop call-to-action, reader-prompt and cross-promotion sentences from one paragraph.

    When a prompt goes, questions left dangling before it ("Which skill matters most? Share
    below!") go too.  Returns None when nothing is left.
    """
    kept: list[str] = []
    removed = 0
    prompted = False
    for sentence in _SENTENCE_BREAK.split(text):
        norm = _norm(sentence)
        if _CTA.search(norm) or _PROMO.search(norm):
            removed += 1
        elif _PROMPT.search(norm):
            removed += 1
            prompted = True
        else:
            kept.append(sentence)
    if not removed:
        return text, 0
    if prompted and all(s.rstrip().endswith(("?", "؟")) for s in kept):
        return None, removed + len(kept)
    return (" ".join(kept) or None), removed


def _cut_comments(blocks: list[Block]) -> tuple[list[Block], int]:
    """A comment section (its header in the second half of the page) runs to the end."""
    for i in range(len(blocks) // 2, len(blocks)):
        block = blocks[i]
        is_header = block.kind in ("heading", "paragraph") and len(block.text) <= 120
        if is_header and _COMMENTS_START.match(_norm(block.text)):
            return blocks[:i], len(blocks) - i
    return blocks, 0


def _drop_titled_lists(blocks: list[Block]) -> tuple[list[Block], int]:
    """A table of contents or a related-posts title goes with the list that follows it."""
    kept: list[Block] = []
    dropped = 0
    skipping_items = False
    for block in blocks:
        if skipping_items and block.kind == "item":
            dropped += 1
            continue
        norm = _norm(block.text)
        is_list_title = bool(_TOC_TITLE.match(norm) or _RELATED_TITLE.match(norm))
        skipping_items = block.kind in ("heading", "paragraph") and is_list_title
        if skipping_items:
            dropped += 1
        else:
            kept.append(block)
    return kept, dropped


def _drop_ad_boxes(blocks: list[Block]) -> tuple[list[Block], int, set[str]]:
    """A lone call-to-action button closes an ad box: its list and the short pitch line above go too.

    Returns the Latin product names in the pitch ("… باستخدام EmailAnalytics"), so that the
    sales paragraphs naming the same product at the end of the page can go as well.
    """
    kept: list[Block] = []
    dropped = 0
    brands: set[str] = set()
    for block in blocks:
        plain = _plain_inline(block.text)
        is_button = len(plain) <= 60 and not _SENTENCE_BREAK.search(plain.strip())
        if block.kind in ("heading", "paragraph") and is_button and _CTA.search(_norm(plain)):
            dropped += 1
            items = 0
            while kept and kept[-1].kind == "item":
                brands.update(_LATIN_NAME.findall(kept.pop().text))
                items += 1
            pitch = kept[-1] if kept else None
            if items and pitch is not None and pitch.kind in ("heading", "paragraph") and len(pitch.text) <= 100 \
                    and not pitch.text.endswith((".", "!", "؟", "?")):
                brands.update(_LATIN_NAME.findall(kept.pop().text))
                dropped += 1
            dropped += items
        else:
            kept.append(block)
    return kept, dropped, brands


def _drop_sales_tail(blocks: list[Block], brands: set[str]) -> tuple[list[Block], int]:
    """After the last heading, paragraphs that name an advertised product are the sales pitch."""
    if not brands:
        return blocks, 0
    last_heading = max((i for i, b in enumerate(blocks) if b.kind == "heading"), default=-1)
    kept = [b for i, b in enumerate(blocks)
            if i <= last_heading or b.kind != "paragraph" or not any(name in b.text for name in brands)]
    return kept, len(blocks) - len(kept)


def _is_furniture_block(block: Block, repeated: set[str]) -> bool:
    """Furniture as a whole block; list items only as share rows (see :func:`clean_lines`)."""
    if block.kind == "item":
        return _is_social_line(_norm(block.text))
    return block.kind in ("heading", "paragraph") and (is_boilerplate_line(block.text) or block.text in repeated)


def drop_boilerplate_blocks(blocks: list[Block]) -> tuple[list[Block], int]:
    """Block- and sentence-level boilerplate removal, the same for every kind of input."""
    repeated = _repeated_lines(b.text for b in blocks if b.kind == "paragraph")
    kept = [b for b in blocks if not _is_furniture_block(b, repeated)]
    dropped = len(blocks) - len(kept)
    kept, cut = _cut_comments(kept)
    kept, titled = _drop_titled_lists(kept)
    kept, boxed, brands = _drop_ad_boxes(kept)
    kept, tail = _drop_sales_tail(kept, brands)
    dropped += cut + titled + boxed + tail
    scrubbed: list[Block] = []
    for block in kept:
        if block.kind in ("paragraph", "item", "heading"):
            text, removed = _scrub_sentences(block.text)
            if block.kind == "heading" and removed:
                text = None  # a prompt or a pitch that looked like a title ("شاركنا رأيك؟")
            dropped += removed
            if text is None:
                continue
            block = replace(block, text=text)
        if block.kind in ("heading", "paragraph") and _SOURCES_TITLE.match(_norm(block.text)):
            block = Block("heading", "المصادر", level=2)
        scrubbed.append(block)
    return scrubbed, dropped


# ---------------------------------------------------------------------------------------
# FAQ, title, summary, language


def extract_faq(blocks: list[Block]) -> tuple[list[Block], tuple[FaqEntry, ...]]:
    """Move 'س: … / ج: …' (also س/ ج/, سؤال: جواب:, Q: A:) pairs out of the body into FAQ entries."""
    kept: list[Block] = []
    faq: list[FaqEntry] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        question = _Q.match(block.text) if block.kind in ("heading", "paragraph", "item") else None
        if question:
            inline = _A_INLINE.split(question.group("text"), maxsplit=1)
            if len(inline) == 2 and inline[1].strip():
                faq.append(FaqEntry(_plain_inline(inline[0]).strip(), inline[1].strip()))
                i += 1
                continue
            answer = _A.match(blocks[i + 1].text) if i + 1 < len(blocks) else None
            if answer:
                faq.append(FaqEntry(_plain_inline(question.group("text")).strip(), answer.group("text").strip()))
                i += 2
                continue
        kept.append(block)
        i += 1
    if faq:
        kept = [b for i, b in enumerate(kept) if not _is_empty_faq_title(i, kept)]
    return kept, tuple(faq)


def _is_empty_faq_title(i: int, blocks: list[Block]) -> bool:
    """A 'الأسئلة الشائعة' title whose questions moved to the front matter is left with nothing."""
    block = blocks[i]
    if block.kind not in ("heading", "paragraph") or not _FAQ_TITLE.match(_norm(block.text)):
        return False
    following = blocks[i + 1] if i + 1 < len(blocks) else None
    if following is None:
        return True
    return following.kind == "heading" and (block.kind == "paragraph" or following.level <= block.level)


def _clean_heading(text: str) -> str:
    return _plain_inline(text).strip().rstrip(".:：").strip()


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


# ---------------------------------------------------------------------------------------
# Blocks -> Markdown


def _escape_paragraph(text: str) -> str:
    """Keep a paragraph a paragraph: a leading '#', '>', '- ' or '1. ' would change its role."""
    if re.match(r"^(#|>|[-+*]\s|=+$|-+$)", text):
        return "\\" + text
    return re.sub(r"^(\d+)([.)]\s)", r"\1\\\2", text)


def _render_table(rows: tuple[tuple[str, ...], ...]) -> str:
    width = max(len(row) for row in rows)
    padded = [list(row) + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(padded[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in padded[1:]]
    return "\n".join(lines)


def render_blocks(blocks: list[Block]) -> str:
    """Markdown for the blocks: ##/### headings, nested '- '/'1. ' lists, pipe tables."""
    parts: list[str] = []
    previous: Block | None = None
    depth = -1
    for block in blocks:
        if block.kind == "heading":
            text = "#" * min(max(block.level, 2), 4) + " " + _clean_heading(block.text)
        elif block.kind == "item":
            depth = min(block.level, depth + 1) if previous is not None and previous.kind == "item" else 0
            marker = f"{block.number}. " if block.number is not None else "- "
            text = "    " * depth + marker + block.text
        elif block.kind == "table":
            text = _render_table(block.rows)
        elif block.kind == "raw":
            text = block.text
        else:
            text = _escape_paragraph(block.text)
        separator = "\n" if previous is not None and previous.kind == block.kind == "item" else "\n\n"
        parts.append((separator if parts else "") + text)
        previous = block
    return "".join(parts).strip() + "\n" if parts else ""


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
        notes = (f"no title line; proposed the first heading {title!r}, which stays in the body",)
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


# ---------------------------------------------------------------------------------------
# Files: kind, reading, slug, atomic write


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


def _write_atomically(path: Path, content: str) -> None:
    """Temp file in the same folder, flush + fsync, then os.replace: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
            _write_atomically(path, article_text(doc, title, category or UNCATEGORIZED, dt.date.today()))
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

"""Plain text and Markdown -> blocks: list items, tables, fences, and headings recovered from bare lines.

Copy-paste flattens headings and lists into plain lines; the shape of the lines around a
short line (a longer paragraph, a list, a table) is what shows it was a section title.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from ._blocks import _BULLET
from ._blocks import _NUMBERED
from ._blocks import _TERMINAL
from ._blocks import Block
from ._blocks import _norm
from ._boilerplate import _SOURCES_TITLE
from ._boilerplate import clean_lines
from ._faq import _is_faq_marker


_BULLET_ALONE = re.compile(r"^[ \t]*[-•*·▪◦●]\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LABEL_LINE = re.compile(r"^(?P<label>[^:،.؟?!|*]{2,60}):\s+(?P<rest>\S.{19,})$")


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

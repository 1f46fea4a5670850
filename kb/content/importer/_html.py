"""HTML -> blocks with the stdlib parser: readable structure kept, page furniture elements skipped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ._blocks import Block


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

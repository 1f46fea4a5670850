"""What HTML an article may carry: the sanitizer's allowlist, and raw HTML it would drop shown as text.

python-markdown does not sanitize (its docs say so), so every rendering goes through nh3
(the Rust ammonia sanitizer) with an allowlist: a <script>, an ``onerror=`` or a
``javascript:`` link in an article never reaches a browser.

Raw HTML in an article is HTML only when the sanitizer would keep it: a tag of the
allowlist whose bare (value-less) attributes are allowed too, or a whole ``<!-- comment -->``.
Anything else that looks like a tag (``<script>``, ``<style>``, ``<email>``, ``a<b and c>d``,
an unclosed ``<b>``) is shown as the text it is.  Dropping it instead would let the browser's
parser swallow what follows (a bare ``<script>`` hides the rest of the page), while search,
which reads the same Markdown, would still index and quote the hidden words.

Apart from :mod:`kb.content.render` because this is the one place that decides what markup
is safe: the allowlist, the sanitizer call and the raw-HTML escaping must agree, and the
renderer (Markdown, directions, headings, sections) only plugs :class:`RawHtmlExtension`
in and calls :func:`sanitize_html`.
"""

from __future__ import annotations

import re

import markdown
import nh3
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import HtmlBlockPreprocessor
from markdown.util import HTML_PLACEHOLDER

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "*": {"dir", "lang", "title"},
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "code": {"class"},
    "details": {"open"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_STASH_PLACEHOLDER = re.compile(re.escape(HTML_PLACEHOLDER).replace("%s", r"(\d+)"))
# One start or end tag as the HTML tokenizer reads it (attribute values may hold ">").
_TAG = re.compile(
    r"""<(?P<end>/)?(?P<name>[A-Za-z][A-Za-z0-9-]*)"""
    r"""(?P<attrs>(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*/?>"""
)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Inline tags that format the text after them: unclosed, they would format the rest of the page.
_FORMATTING_TAGS = {"a", "abbr", "b", "code", "del", "em", "i", "ins", "kbd", "mark", "s", "small", "span", "strong",
                    "sub", "sup", "u"}


def sanitize_html(html: str) -> str:
    """Keep only safe tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def _kept_tag(match: re.Match[str]) -> bool:
    """Will the sanitizer keep this tag?  Its name is allowed and so is each bare attribute
    (``<b and c>`` is prose with angle brackets, not bold text with attributes "and" and "c")."""
    name = match.group("name").lower()
    if name not in _ALLOWED_TAGS:
        return False
    if match.group("end"):
        return not match.group("attrs").strip()
    allowed = _ALLOWED_ATTRIBUTES["*"] | _ALLOWED_ATTRIBUTES.get(name, set())
    return all(value or attribute.lower() in allowed for attribute, value in _ATTRIBUTE.findall(match.group("attrs")))


def escape_unkept_markup(html: str) -> str:
    """Raw HTML with every "<" that does not open a kept tag or a whole comment written as
    ``&lt;``, so the browser shows it as text instead of parsing (and losing) what follows."""
    parts: list[str] = []
    position = 0
    while (start := html.find("<", position)) >= 0:
        parts.append(html[position:start])
        match = _TAG.match(html, start) or _COMMENT.match(html, start)
        if match is not None and (match.re is _COMMENT or _kept_tag(match)):
            parts.append(match.group(0))
            position = match.end()
        else:
            parts.append("&lt;")
            position = start + 1
    parts.append(html[position:])
    return "".join(parts)


def _starts_with_kept_markup(block: str) -> bool:
    block = block.lstrip()
    match = _TAG.match(block) or _COMMENT.match(block)
    return match is not None and (match.re is _COMMENT or _kept_tag(match))


class _HtmlBlockPreprocessor(HtmlBlockPreprocessor):
    """python-markdown's raw HTML blocks, except blocks opened by markup the sanitizer drops.

    An unclosed ``<script>`` or ``<style>`` at the start of a line makes the rest of the
    article one raw block; such a block goes back into the text with its "<" escaped, so
    what follows it is still Markdown (headings, lists) and is shown."""

    def run(self, lines: list[str]) -> list[str]:
        stash = self.md.htmlStash
        for _ in range(100):  # each round escapes one more "<": bounded by the article's tags
            first = len(stash.rawHtmlBlocks)
            text = "\n".join(super().run(lines))
            reverted = False
            for index in range(first, len(stash.rawHtmlBlocks)):
                block = stash.rawHtmlBlocks[index]
                placeholder = HTML_PLACEHOLDER % index
                if isinstance(block, str) and placeholder in text and not _starts_with_kept_markup(block):
                    at = block.index("<")
                    text = text.replace(placeholder, block[:at] + "&lt;" + block[at + 1:].rstrip("\n"), 1)
                    reverted = True
            lines = text.split("\n")
            if not reverted:
                break
        return lines


class _RawHtmlPostprocessor(Postprocessor):
    """Before python-markdown puts raw HTML back: escape what the sanitizer would drop, and
    unpaired formatting tags (an unclosed ``<b>`` would bold the rest of the page)."""

    def run(self, text: str) -> str:
        blocks = self.md.htmlStash.rawHtmlBlocks
        opened: dict[str, list[int]] = {}
        for found in _STASH_PLACEHOLDER.finditer(text):
            index = int(found.group(1))
            if index >= len(blocks) or not isinstance(blocks[index], str):
                continue
            blocks[index] = block = escape_unkept_markup(blocks[index])
            tag = _TAG.fullmatch(block.strip())
            if tag is None or tag.group("name").lower() not in _FORMATTING_TAGS or block.strip().endswith("/>"):
                continue
            name = tag.group("name").lower()
            if not tag.group("end"):
                opened.setdefault(name, []).append(index)
            elif opened.get(name):
                opened[name].pop()
            else:
                blocks[index] = "&lt;" + block.lstrip()[1:]
        for indexes in opened.values():
            for index in indexes:
                blocks[index] = "&lt;" + blocks[index].lstrip()[1:]
        return text


class RawHtmlExtension(Extension):
    """Raw HTML that the sanitizer would drop is shown as text (see the module docstring)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.register(_HtmlBlockPreprocessor(md), "html_block", 20)
        # Above raw_html (30): rewrites the stash before it goes back into the text.
        md.postprocessors.register(_RawHtmlPostprocessor(md), "kb_raw_html", 35)

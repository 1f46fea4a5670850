"""Markdown -> sanitized HTML, and Markdown -> sections (the unit that search returns).

python-markdown does not sanitize (its docs say so), so every rendering goes through nh3
(the Rust ammonia sanitizer) with an allowlist: a <script>, an ``onerror=`` or a
``javascript:`` link in an article never reaches a browser.

Raw HTML in an article is HTML only when the sanitizer would keep it: a tag of the
allowlist whose bare (value-less) attributes are allowed too, or a whole ``<!-- comment -->``.
Anything else that looks like a tag (``<script>``, ``<style>``, ``<email>``, ``a<b and c>d``,
an unclosed ``<b>``) is shown as the text it is.  Dropping it instead would let the browser's
parser swallow what follows (a bare ``<script>`` hides the rest of the page), while search,
which reads the same Markdown, would still index and quote the hidden words.  Search's
text (:func:`markdown_to_text`) is taken from the same sanitized HTML as the page, so what
is indexed is exactly what a reader sees.  Heading ids come from one
function, :func:`kb.text.slugify`, through the toc extension; :func:`split_sections` takes
the ids from that same toc, so a search hit's section link always lands on its heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape as html_unescape
from html.parser import HTMLParser
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import HtmlBlockPreprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER

from kb.text import slugify

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
# An <img> as nh3 writes it: every attribute value double-quoted, any '"' inside escaped.
_SANITIZED_IMG = re.compile(r'<img((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*/?>')
_SANITIZED_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
# Blocks whose direction follows their own first strong character (Arabic or English).
_AUTO_DIR_TAGS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "blockquote", "dt", "dd"}
SECTION_LEVELS = (2, 3, 4)
# What python-markdown leaves in a <p> for a stashed block (util.HTML_PLACEHOLDER).
_BLOCK_PLACEHOLDER = re.compile("\x02wzxhzdk:\\d+\x03")
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


def _toc_slugify(value: str, separator: str) -> str:
    return slugify(value, separator) or "section"


class _DirectionTreeprocessor(Treeprocessor):
    """dir="auto" on text blocks, dir="ltr" on code blocks, for mixed Arabic/English text."""

    def run(self, root: Element) -> None:
        for element in root.iter():
            if _BLOCK_PLACEHOLDER.fullmatch((element.text or "").strip()) and not len(element):
                continue  # a placeholder for a stashed block (code, raw HTML): left unwrapped
            if element.tag in _AUTO_DIR_TAGS and "dir" not in element.attrib:
                element.set("dir", "auto")
            elif element.tag == "pre":
                element.set("dir", "ltr")


class _CodeDirectionPostprocessor(Postprocessor):
    """dir="ltr" on fenced code blocks: they come back from the stash as raw HTML, after the
    tree processors ran, so the tree processor never sees their <pre>."""

    def run(self, text: str) -> str:
        return text.replace("<pre><code", '<pre dir="ltr"><code')


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


class _DirectionExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_DirectionTreeprocessor(md), "kb_direction", 1)
        # Below raw_html (30): runs once the stashed code blocks are back in the text.
        md.postprocessors.register(_CodeDirectionPostprocessor(md), "kb_code_direction", 5)


class _RawHtmlExtension(Extension):
    """Raw HTML that the sanitizer would drop is shown as text (see the module docstring)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.register(_HtmlBlockPreprocessor(md), "html_block", 20)
        # Above raw_html (30): rewrites the stash before it goes back into the text.
        md.postprocessors.register(_RawHtmlPostprocessor(md), "kb_raw_html", 35)


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", "toc", _DirectionExtension(), _RawHtmlExtension()],
        extension_configs={"toc": {"slugify": _toc_slugify, "toc_depth": "2-4"}},
        output_format="html",
    )


def sanitize_html(html: str) -> str:
    """Keep only safe tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class Rendered:
    html: str
    toc: tuple[TocEntry, ...]
    external_images: tuple[str, ...] = ()  # image URLs on other sites, shown as links (see below)


def render_markdown(text: str) -> Rendered:
    """Render article Markdown to sanitized HTML plus its table of contents."""
    md = _markdown()
    html = md.convert(text)
    toc = tuple(_flatten_toc(md.toc_tokens))  # type: ignore[attr-defined]
    html, external = link_external_images(sanitize_html(html))
    return Rendered(html=html, toc=toc, external_images=external)


def is_external(url: str) -> bool:
    """Whether a URL points at another site: it has a scheme, or starts with two slashes
    (browsers read a backslash as a slash)."""
    return bool(re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:|[/\\]{2})", url, re.I))


def link_external_images(html: str) -> tuple[str, tuple[str, ...]]:
    """Each image on another site becomes a link to it, labelled with its alt text.

    The site's Content-Security-Policy loads images from the site itself only, so the
    browser would show a broken image.  Loading them would also tell another server
    who reads which article (each reader's address and the page), and an image there can
    change or vanish without the editors knowing.  A visible link keeps what the author
    meant reachable; the editor and ``kb check`` tell the author to upload the image.
    Returns the rewritten HTML and the external URLs, in order.
    """
    found: list[str] = []

    def replace(match: re.Match[str]) -> str:
        attributes = dict(_SANITIZED_ATTRIBUTE.findall(match.group(1)))
        src = attributes.get("src", "")
        if not is_external(html_unescape(src)):
            return match.group(0)
        found.append(html_unescape(src))
        label = attributes.get("alt") or attributes.get("title") or src
        return (f'<a class="external-image" href="{src}" rel="noopener noreferrer" dir="auto">'
                f'<span class="external-image-label">{label}</span></a>')

    return _SANITIZED_IMG.sub(replace, html), tuple(found)


def external_image_urls(body: str) -> tuple[str, ...]:
    """The images of an article's Markdown that are on other sites (for ``kb check``)."""
    if "//" not in body and ":" not in body:
        return ()
    return render_markdown(body).external_images


def _flatten_toc(tokens: list[dict]) -> list[TocEntry]:
    entries: list[TocEntry] = []
    for token in tokens:
        entries.append(TocEntry(token["level"], token["id"], _plain(token["name"])))
        entries.extend(_flatten_toc(token["children"]))
    return entries


@dataclass(frozen=True)
class Section:
    """A heading's part of an article: what a search hit points to.

    ``heading`` is None for the text before the first heading (the introduction).
    ``path`` is the chain of headings down to this one, for context in passages.
    """

    index: int
    heading: str | None
    anchor: str | None
    level: int
    path: tuple[str, ...]
    text: str
    markdown: str = ""  # the section's own Markdown (links and all), for structural checks


_ATX_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_SETEXT_H2 = re.compile(r"^ {0,3}-+[ \t]*$")


def split_sections(body: str) -> list[Section]:
    """Split an article body at its ##/###/#### headings into plain-text sections.

    The anchors are the ones the toc extension gave the same headings while rendering, so
    they are unique and identical to the ids on the page.  A heading line is paired with
    the next toc entry of the same text; a line that looks like a heading but is none on
    the page (inside raw HTML), and a heading the line scanner cannot see (one inside a
    quote), never shift the anchors of the others: the first stays body text, the
    second's text stays in the section before it.
    """
    toc = [e for e in render_markdown(body).toc if e.level in SECTION_LEVELS]
    chunks: list[tuple[TocEntry | None, list[str]]] = [(None, [])]
    in_fence = False
    next_entry = 0
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _ATX_HEADING.match(line)
        previous = chunks[-1][1][-1] if chunks[-1][1] else ""
        found = None
        if match and len(match.group(1)) in SECTION_LEVELS:
            found = _find_toc_entry(toc, next_entry, match.group(1), match.group(2))
        elif not in_fence and _SETEXT_H2.match(line) and previous.strip():
            found = _find_toc_entry(toc, next_entry, "##", previous.strip())
            if found is not None:
                chunks[-1][1].pop()  # the underlined line is the heading, not body text
        if found is None:
            chunks[-1][1].append(line)
            continue
        next_entry = found + 1
        chunks.append((toc[found], []))
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    for entry, lines in chunks:
        if entry is not None:
            trail = [(lvl, t) for lvl, t in trail if lvl < entry.level] + [(entry.level, entry.title)]
        text = markdown_to_text("\n".join(lines))
        if entry is None and not text:
            continue
        sections.append(
            Section(
                len(sections),
                entry.title if entry else None,
                entry.anchor if entry else None,
                entry.level if entry else 0,
                tuple(t for _, t in trail),
                text,
                "\n".join(lines).strip(),
            )
        )
    return sections


def _find_toc_entry(toc: list[TocEntry], start: int, hashes: str, heading: str) -> int | None:
    """Index of the first toc entry from start that is this heading line, or None."""
    key = slugify(_plain(markdown.markdown(f"{hashes} {heading}")))
    for i in range(start, len(toc)):
        if toc[i].level == len(hashes) and slugify(toc[i].title) == key:
            return i
    return None


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "br", "div", "dt", "dd"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data.replace("\n", " ") if self.lasttag not in ("pre", "code") else data)


def _plain(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    return re.sub(r"[ \t]+", " ", "".join(extractor.parts)).strip()


def markdown_to_text(text: str) -> str:
    """The readable text of some Markdown: no markup, one line per block.

    Read from the page's own sanitized HTML (:func:`render_markdown`), so search indexes
    and quotes exactly the words a reader sees, and nothing the page does not show."""
    if not text.strip():
        return ""
    html = render_markdown(text).html
    lines = (line.strip(" |") for line in _plain(html).split("\n"))
    return "\n".join(line.strip() for line in lines if line.strip())

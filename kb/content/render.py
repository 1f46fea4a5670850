"""Markdown -> sanitized HTML, and Markdown -> sections (the unit that search returns).

Every rendering goes through the sanitizer, and raw HTML it would drop is shown as text
(:mod:`kb.content.sanitize`: the allowlist and why).  Search's
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
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.treeprocessors import Treeprocessor

from kb.content.sanitize import RawHtmlExtension
from kb.content.sanitize import sanitize_html  # also kb.content.render.sanitize_html: tests import it here
from kb.text import slugify

# An <img> as nh3 writes it: every attribute value double-quoted, any '"' inside escaped.
_SANITIZED_IMG = re.compile(r'<img((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*/?>')
_SANITIZED_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
# Blocks whose direction follows their own first strong character (Arabic or English).
_AUTO_DIR_TAGS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "blockquote", "dt", "dd"}
SECTION_LEVELS = (2, 3, 4)
# What python-markdown leaves in a <p> for a stashed block (util.HTML_PLACEHOLDER).
_BLOCK_PLACEHOLDER = re.compile("\x02wzxhzdk:\\d+\x03")


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


class _DirectionExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_DirectionTreeprocessor(md), "kb_direction", 1)
        # Below raw_html (30): runs once the stashed code blocks are back in the text.
        md.postprocessors.register(_CodeDirectionPostprocessor(md), "kb_code_direction", 5)


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", "toc", _DirectionExtension(), RawHtmlExtension()],
        extension_configs={"toc": {"slugify": _toc_slugify, "toc_depth": "2-4"}},
        output_format="html",
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

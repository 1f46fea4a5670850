"""What the help widget shows, as data: an article body as a JSON tree, the query for a page.

The widget runs inside other companies' pages, some with a strict Content-Security-Policy
and Trusted Types (``require-trusted-types-for 'script'``), where assigning HTML to
``innerHTML`` throws.  So the widget never parses HTML: the server sends an article as a
tree of allowed elements (``[tag, {attrs}, child, ...]``, text as strings) that the script
builds with ``createElement`` and ``textContent``.  Anything outside the allow-list (a
script, a style, an event handler, a ``javascript:`` link) cannot pass, whatever the
Markdown renderer lets through.  Pure functions: no Flask.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin
from urllib.parse import urlsplit

# Elements the widget may build, and the attributes each may keep.
ALLOWED = {
    "p": (), "br": (), "hr": (), "strong": (), "b": (), "em": (), "i": (), "code": (), "pre": (), "kbd": (),
    "mark": (), "sub": (), "sup": (), "blockquote": (), "ul": (), "ol": ("start",), "li": (), "dl": (), "dt": (),
    "dd": (), "table": (), "thead": (), "tbody": (), "tr": (), "th": ("colspan", "rowspan", "scope"),
    "td": ("colspan", "rowspan"), "h2": ("id",), "h3": ("id",), "h4": ("id",), "h5": ("id",), "h6": ("id",),
    "a": ("href",), "img": ("src", "alt", "width", "height"), "details": (), "summary": (), "figure": (),
    "figcaption": (), "span": (), "div": (),
}
VOID = frozenset({"br", "hr", "img"})
# Elements dropped with everything inside them (their text is no reading matter).
DROPPED = frozenset({"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math", "form",
                     "button", "input", "select", "textarea"})
HEADING_SHIFT = {"h1": "h2"}  # the widget shows the article's title itself
_SAFE_SCHEMES = ("http", "https", "mailto", "tel")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—·:]\s+")
MAX_PAGE_QUERY_CHARS = 300


def html_to_tree(html: str, base_url: str) -> list:
    """The children of a rendered article as a JSON tree; links and images made absolute on
    ``base_url`` (the widget runs on another site, where "/articles/x" means something else)."""
    builder = _TreeBuilder(base_url)
    builder.feed(html)
    builder.close()
    return builder.root


class _TreeBuilder(HTMLParser):
    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url.rstrip("/") + "/"
        self.root: list = []
        self.stack: list[list] = []  # open allowed elements
        self.open_tags: list[str] = []  # every open tag, allowed or not, to match end tags
        self.dropping = 0

    def _children(self) -> list:
        return self.stack[-1] if self.stack else self.root

    def handle_starttag(self, tag, attrs):
        tag = HEADING_SHIFT.get(tag, tag)
        if self.dropping or tag in DROPPED:
            if tag not in VOID:
                self.dropping += 1
            return
        if tag not in ALLOWED:
            if tag not in VOID:
                self.open_tags.append(tag)
            return
        node = [tag, self._attributes(tag, attrs)]
        self._children().append(node)
        if tag not in VOID:
            self.stack.append(node)
            self.open_tags.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and tag in ALLOWED and not self.dropping:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        tag = HEADING_SHIFT.get(tag, tag)
        if self.dropping:
            if tag in DROPPED or tag not in VOID:
                self.dropping -= 1
            return
        if tag not in self.open_tags:
            return
        while self.open_tags:
            closed = self.open_tags.pop()
            if closed in ALLOWED:
                self.stack.pop()
            if closed == tag:
                break

    def handle_data(self, data):
        if self.dropping or not data:
            return
        children = self._children()
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)

    def _attributes(self, tag: str, attrs) -> dict:
        kept = {}
        for name, value in attrs:
            if name not in ALLOWED[tag] or value is None:
                continue
            if name in ("href", "src"):
                value = self._absolute(value)
                if value is None:
                    continue
            kept[name] = value[:2000]
        return kept

    def _absolute(self, link: str) -> str | None:
        link = link.strip()
        if link.startswith("#"):
            return link
        absolute = urljoin(self.base_url, link)
        return absolute if urlsplit(absolute).scheme.lower() in _SAFE_SCHEMES else None


def page_query(title: str, context: str) -> str:
    """The search for "articles for the page the visitor is on": the page's ``data-context``
    hint first (the site owner's words), then the title without the site's own name, which
    titles carry after a separator ("Returns — Example Shop" → "Returns")."""
    parts = [part for part in _TITLE_SEPARATORS.split(" ".join((title or "").split())) if part]
    if len(parts) > 1 and len(parts[-1].split()) <= 4:  # a site name is short
        parts = parts[:-1]
    words = " ".join([" ".join((context or "").split()), *parts]).strip()
    return words[:MAX_PAGE_QUERY_CHARS]

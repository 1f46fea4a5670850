"""Public URLs of articles, sections and categories: one pure function each.

The site, the API, the sitemap and search hits all build links here, so an Arabic slug is
percent-encoded the same way everywhere.
"""

from __future__ import annotations

from urllib.parse import quote


def article_url(slug: str, anchor: str | None = None) -> str:
    """'/articles/<slug>' (percent-encoded), with '#<anchor>' for a section."""
    url = "/articles/" + quote(slug, safe="")
    if anchor:
        url += "#" + quote(anchor, safe="")
    return url


def category_url(category_slug: str) -> str:
    """'/categories/<category-slug>' (percent-encoded)."""
    return "/categories/" + quote(category_slug, safe="")


def absolute_url(base_url: str, path: str) -> str:
    """Join the configured public base URL and a site path."""
    return base_url.rstrip("/") + path

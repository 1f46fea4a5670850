"""Public URLs of articles, sections and categories: one pure function each.

The site, the API, the sitemap and search hits all build links here, so an Arabic slug is
percent-encoded the same way everywhere.
"""

from __future__ import annotations

import re
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


def is_http_url(text: str) -> bool:
    """An absolute http:// or https:// URL with a host and no spaces (base_url, a contact webhook)."""
    return re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", text) is not None


def absolute_url(base_url: str, path: str) -> str:
    """Join the configured public base URL and a site path."""
    return base_url.rstrip("/") + path


def local_base_url(host: str, port: int) -> str:
    """'http://<host>:<port>': the base_url when none is configured, so it follows host and port.

    A wildcard address (0.0.0.0, ::) is no address a browser can open: the loopback address
    of its family stands for it (behind a proxy, or for other machines, set base_url to the
    public address).  An IPv6 address gets its brackets.
    """
    host = host.strip()
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host in ("::", "[::]"):
        host = "::1"  # an IPv6-only socket would not answer on 127.0.0.1
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"

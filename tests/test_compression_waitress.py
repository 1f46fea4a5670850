"""Compression through a real waitress (what kb serve runs): static files go through the
server's file wrapper, which Flask's test client never uses."""

from __future__ import annotations

import gzip
import urllib.request

import brotli
import pytest
from waitress_harness import serving


@pytest.fixture
def served(app):
    with serving(app) as url:
        yield url


def get(url: str, encoding: str | None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.parametrize("path", ["/static/css/site.css", "/static/js/site.js", "/"])
def test_static_files_and_pages_are_compressed_through_waitress(served, path):
    """GIVEN kb's app in waitress WHEN a browser-like client asks for br, then gzip, then nothing
    THEN each answer is 200 and decodes to the same bytes as the plain one."""
    status, headers, plain = get(served + path, None)
    assert status == 200 and "Content-Encoding" not in headers
    status, headers, body = get(served + path, "gzip, deflate, br")
    assert status == 200 and headers["Content-Encoding"] == "br"
    assert brotli.decompress(body) == plain
    status, headers, body = get(served + path, "gzip")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain

"""Compression through a real waitress (what kb serve runs): static files go through the
server's file wrapper, which Flask's test client never uses."""

from __future__ import annotations

import gzip
import socket
import threading
import urllib.request

import brotli
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(app):
    from waitress.server import create_server

    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()
    thread.join(timeout=10)


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

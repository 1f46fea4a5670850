"""Brotli or gzip for the clients that ask for it (``init_app``, called by kb.web.caching).

``kb serve`` compresses HTML, CSS, JavaScript, JSON, XML, SVG and text itself, so a site
without a reverse proxy is not four times heavier than it needs to be (the FAQ page: 157 KB
as HTML, about 29 KB gzipped).  Fonts (WOFF2 is compressed already) and images are sent as
they are.

The coding is negotiated as RFC 9110 (section 12.5.3) says, not guessed: a coding is used
only when the request's ``Accept-Encoding`` accepts it with a quality above 0, by name or
by ``*`` (which stands for the codings the header does not name), so ``gzip;q=0`` or
``br;q=0, *`` never get that coding and a request without the header is answered as is.
flask-compress, used before, sent gzip to ``gzip;q=0`` and brotli to ``br;q=0, *``.
Among equally acceptable codings brotli wins: smaller than gzip at the same speed.

Files with a strong ETag (static files, ``widget.js``) are compressed once per version and
coding and kept in a small per-app cache (``CompressedBodies``): compressing site.css (27 KB)
costs about 0.5 ms of CPU each time (brotli 5 or gzip 6, measured here), paid on every page
view's stylesheet request before; now once per process.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from collections.abc import Iterator

import brotli
from flask import Flask
from flask import current_app
from flask import request
from flask import stream_with_context
from werkzeug.wrappers import Response

COMPRESSED_TYPES = frozenset({
    "text/html", "text/css", "text/plain", "text/xml", "text/javascript", "application/javascript",
    "application/json", "application/ld+json", "application/xml", "application/problem+json", "image/svg+xml",
})
# The server's preference among codings a client accepts equally (deflate is left out: every
# client that takes it takes gzip, and "deflate" was sent two incompatible ways in the past).
CODINGS = ("br", "gzip")
# Below this a compressed body saves less than the header that says it is compressed costs.
MIN_SIZE = 500
BROTLI_QUALITY = 5
GZIP_LEVEL = 6
# Bodies of versioned files kept compressed: at most this many bytes in all, and only files up
# to CACHED_FILE_BYTES (the site's CSS and JS are tens of KB; a large export stays streamed).
CACHE_BYTES = 8 * 1024 * 1024
CACHED_FILE_BYTES = 1024 * 1024


class CompressedBodies:
    """Compressed bodies by (strong ETag, coding), least recently used dropped first.

    Threads of one server share it (a lock); each app has its own (``init_app``), so tests
    and processes never see each other's."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, etag: str, coding: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get((etag, coding))
            if body is not None:
                self._bodies.move_to_end((etag, coding))
            return body

    def put(self, etag: str, coding: str, body: bytes) -> None:
        with self._lock:
            old = self._bodies.pop((etag, coding), None)
            self._size += len(body) - (len(old) if old is not None else 0)
            self._bodies[(etag, coding)] = body
            while self._size > self.max_bytes and self._bodies:
                _, dropped = self._bodies.popitem(last=False)
                self._size -= len(dropped)


def init_app(app: Flask) -> None:
    app.extensions["kb_compressed_bodies"] = CompressedBodies()
    app.after_request(compress_response)


def accepted_codings(accept_encoding: str) -> dict[str, float]:
    """The codings of an ``Accept-Encoding`` value with their quality (``*`` included).

    Names are case-insensitive and whitespace may surround ``;`` and ``=``; a malformed
    quality counts as 0 (not acceptable) rather than as a wish for that coding.
    """
    accepted: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        accepted[name] = quality
    return accepted


def choose_coding(accept_encoding: str | None, offered: Iterable[str] = CODINGS) -> str | None:
    """The offered coding the client accepts best (``offered`` order breaks ties), else None.

    No header, an empty one or only ``identity`` mean: send it uncompressed.
    """
    if not accept_encoding:
        return None
    accepted = accepted_codings(accept_encoding)
    wildcard = accepted.get("*", 0.0)
    best, best_quality = None, 0.0
    for coding in offered:
        quality = accepted.get(coding, wildcard)
        if quality > best_quality:
            best, best_quality = coding, quality
    return best


def compress_response(response: Response) -> Response:
    """Compress a response for this request's client when it is worth it and allowed."""
    if response.mimetype in COMPRESSED_TYPES:
        # The answer depends on the header even when it is not compressed this time.
        response.vary.add("Accept-Encoding")
    if not _compressible(response):
        return response
    coding = choose_coding(request.headers.get("Accept-Encoding"))
    if coding is None:
        return response
    response.headers["Content-Encoding"] = coding
    # A byte range of the compressed body is not a range of the file: no ranges on it.
    response.headers.pop("Accept-Ranges", None)
    etag, weak = response.get_etag()
    cacheable = bool(etag) and not weak and response.content_length is not None \
        and response.content_length <= CACHED_FILE_BYTES
    bodies = current_app.extensions.get("kb_compressed_bodies") if cacheable else None
    cached = bodies.get(etag, coding) if bodies is not None else None
    # A file sent by the server's file wrapper (waitress's wsgi.file_wrapper for send_file) has
    # a known length, so it is not "streamed", but it is in direct passthrough: its body can
    # only be iterated, never read with get_data() (which raised, a 500 for every CSS and JS
    # file a browser fetched through kb serve).
    # Strong ETags here are the body's own hash (kb.web.caching, the widget) or a file's
    # identity (send_file): the same ETag is the same body, whoever asks.
    if bodies is not None:
        if cached is None:
            cached = compress_bytes(b"".join(response.iter_encoded()), coding)
            bodies.put(etag, coding, cached)
        original = response.response
        response.direct_passthrough = False
        response.set_data(cached)
        if hasattr(original, "close"):
            response.call_on_close(original.close)
    elif response.is_streamed or response.direct_passthrough:
        original = response.response
        response.response = stream_with_context(_compress_chunks(response.iter_encoded(), coding))
        response.direct_passthrough = False
        response.headers.pop("Content-Length", None)
        if hasattr(original, "close"):
            response.call_on_close(original.close)
    else:
        response.set_data(compress_bytes(response.get_data(), coding))
    if etag and not weak:
        # Another body, so another strong validator; a weak one stays (same meaning).
        response.set_etag(f"{etag}-{coding}")
    if request.method in ("GET", "HEAD") and etag:
        response.make_conditional(request)
    return response


def compress_bytes(data: bytes, coding: str) -> bytes:
    if coding == "br":
        return brotli.compress(data, quality=BROTLI_QUALITY)
    if coding == "gzip":
        return gzip.compress(data, GZIP_LEVEL, mtime=0)
    raise ValueError(f"unknown content coding: {coding}")


def _compressible(response: Response) -> bool:
    return (
        response.mimetype in COMPRESSED_TYPES
        and 200 <= response.status_code < 300
        and response.status_code not in (204, 206)  # no body; a byte range of the plain file
        and "Content-Encoding" not in response.headers
        and (response.content_length is None or response.content_length >= MIN_SIZE)
    )


def _compress_chunks(chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    """Stream compression (static files are sent in chunks, never read whole)."""
    if coding == "br":
        compressor = brotli.Compressor(quality=BROTLI_QUALITY)
        process, finish = compressor.process, compressor.finish
    else:
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        process, finish = compressor.compress, compressor.flush
    for chunk in chunks:
        out = process(chunk)
        if out:
            yield out
    out = finish()
    if out:
        yield out

"""HTTP caching for every response, and compression (``init_app`` is called by the factory).

Compression (kb.web.compression): brotli or gzip for the clients whose ``Accept-Encoding``
asks for it, never for the others.

Caching: a public page (a site GET answered 200 to a reader without a session cookie;
search results excepted) is ``Cache-Control: public`` with an ``ETag``; a shared cache may keep it for
``page_cache_seconds`` and then asks again, and an unchanged page answers
``304 Not Modified``.  Views served by a cache are not counted, which is why the default
is 0 (ask every time: the 304 still saves the bytes).  Anything that sets a cookie or
depends on one (a reader who voted sees their vote) is ``private``; staff pages keep their
own ``no-store`` (kb.web.staff) and the API answers are never cached by shared caches.
"""

from __future__ import annotations

from flask import Flask
from flask import current_app
from flask import request
from flask import session

from kb.web import compression

PUBLIC_BLUEPRINTS = frozenset({"site"})
# Pages that are answers to one request, not documents: a search records itself for the
# reports and its result links carry its id, so a cache must never hand it to another reader.
PRIVATE_ENDPOINTS = frozenset({"site.search"})


def init_app(app: Flask) -> None:
    """Compress responses and add Cache-Control/ETag to public pages."""
    compression.init_app(app)
    # Registered after compression so it runs before it (Flask runs after_request hooks in
    # reverse): the ETag is taken over the uncompressed page, then compression gives the
    # compressed variant its own ETag and answers 304 itself for it.
    app.after_request(add_cache_headers)


def add_cache_headers(response):
    """Cache-Control (and an ETag for public pages) on responses that have none yet."""
    if "Cache-Control" in response.headers or request.method not in ("GET", "HEAD"):
        return response
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    if request.blueprint not in PUBLIC_BLUEPRINTS or response.status_code != 200 or response.is_streamed:
        return response
    cookie_name = current_app.config.get("SESSION_COOKIE_NAME", "session")
    # The session cookie is written after these hooks run: ask the session, not the headers.
    if (request.endpoint in PRIVATE_ENDPOINTS or "Set-Cookie" in response.headers or session.modified
            or cookie_name in request.cookies):
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        settings = current_app.extensions.get("kb_settings")
        seconds = max(0, int(getattr(settings, "page_cache_seconds", 0) or 0))
        response.headers["Cache-Control"] = f"public, max-age={seconds}" if seconds else "public, no-cache"
    response.add_etag()
    return response.make_conditional(request)

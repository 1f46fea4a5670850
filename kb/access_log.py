"""A request log for ``kb serve --access-log``: one line per request, as web servers print.

waitress logs no requests, and Flask's development server does it only with --dev.  This
WSGI middleware wraps the app: when the response body has been sent (the server closes it)
it logs, on the ``kb.access`` logger, the client address, method, path and query, status,
bytes sent and the time from the request's arrival to the last byte:

    127.0.0.1 GET /articles/سياسة-الاسترداد 200 18432 B 12.4 ms

The path is shown decoded (Arabic slugs readable); any character that could forge or garble
a log line (control characters, spaces, non-UTF-8 bytes) is percent-encoded again.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from collections.abc import Iterable
from urllib.parse import quote
from urllib.parse import unquote

logger = logging.getLogger("kb.access")

# What is kept as is in a logged path or query: printable, no spaces, quotes or controls.
_UNSAFE = re.compile(r"[^\w\-./~!$&'()*+,;=:@%?\[\]]")


def printable_target(environ: dict) -> str:
    """The request's path and query, readable and safe on one log line."""
    raw = environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", ""))
    if "?" not in raw and environ.get("QUERY_STRING"):
        raw += "?" + environ["QUERY_STRING"]
    text = unquote(raw, errors="surrogateescape")
    return _UNSAFE.sub(lambda m: quote(m.group(), safe="", errors="surrogateescape"), text)


def access_line(environ: dict, status: str, size: int, seconds: float) -> str:
    """One log line: client, method, path and query, status code, bytes, milliseconds."""
    client = environ.get("REMOTE_ADDR") or "-"
    method = _UNSAFE.sub("?", environ.get("REQUEST_METHOD", "-"))
    code = status.split(" ", 1)[0] if status else "-"
    return f"{client} {method} {printable_target(environ)} {code} {size} B {seconds * 1000:.1f} ms"


class _LoggedBody:
    """The app's response body, passed through; logs the request when the server closes it."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[int], None]):
        self._body = body
        self._finish = finish
        self._size = 0
        self._done = False

    def __iter__(self):
        for chunk in self._body:
            self._size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._done:
                self._done = True
                self._finish(self._size)


class AccessLog:
    """WSGI middleware: ``AccessLog(app)`` logs each request on ``kb.access`` at INFO."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable):
        started = time.perf_counter()
        status_line: list[str] = []

        length: list[int] = []

        def recording_start_response(status, headers, exc_info=None):
            status_line[:] = [status]
            length[:] = [int(value) for name, value in headers if name.lower() == "content-length" and value.isdigit()]
            return start_response(status, headers, exc_info)

        def finish(size: int) -> None:
            logger.info("%s", access_line(environ, status_line[0] if status_line else "", size,
                                          time.perf_counter() - started))

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            finish(0)
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # A file the server sends itself (waitress sends its file wrapper's buffer
            # directly, recognised by its type): wrapping it would make the server iterate it
            # in Python.  Log at its close instead, with the length it was sent with.
            _log_on_close(body, lambda: finish(length[0] if length else 0))
            return body
        return _LoggedBody(body, finish)


def _log_on_close(body, finish: Callable[[], None]) -> None:
    close = getattr(body, "close", None)

    def close_and_log() -> None:
        try:
            if close is not None:
                close()
        finally:
            finish()

    body.close = close_and_log


def print_access_log(stream) -> None:
    """Send ``kb.access`` lines, with their time, to ``stream`` (kb serve's standard output)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # not again through the root logger's WARNING-level handler

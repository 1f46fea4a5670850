"""A request's JSON body, for every view that reads one (the API, the agent panel, the widget, the editor).

``request.get_json(silent=True)`` turns a body that is not JSON into None, but not one that
nests deeper than Python's parser can follow: ``{"message": [[[[...5000 levels...]]]]}``
raises ``RecursionError``, which no ``silent`` catches, and became a 500 with a logged
traceback, on public endpoints too.  Such a body is as unreadable as any invalid JSON, and
each view answers it as it answers invalid JSON.
"""

from __future__ import annotations

from typing import Any

from flask import request


def json_body() -> Any | None:
    """The request's JSON body; None when it is not JSON, does not parse, or nests too deep to
    parse.  A body over the request's size limit still raises 413."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None

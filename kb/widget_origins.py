"""The sites allowed to embed the help widget: origins kept in the database (no Flask).

An origin is what a browser sends in its ``Origin`` header: ``scheme://host[:port]``.  The
admin may paste a whole URL ("https://Shop.Example.com/cart"); :func:`parse_origin` keeps
the origin part, lower-cased, without a default port, and refuses anything a browser would
never send (another scheme, user info, no host).  Kept in the database so every server
process sees a change on its next request.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from kb.store.db import Connection
from kb.errors import KbError
from kb.translation import N_

MAX_NOTE_CHARS = 80
MAX_ORIGINS = 200
_DEFAULT_PORTS = {"http": 80, "https": 443}
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)


def parse_origin(text: str) -> str:
    """``scheme://host[:port]`` for a pasted origin or URL; a ``KbError`` (field "origin") says what is wrong."""
    value = (text or "").strip()
    if not value:
        raise KbError("origin_empty", N_("Write the site's address, e.g. https://shop.example.com."), field="origin")
    if "://" not in value:
        if _OTHER_SCHEME.match(value):  # "javascript:…", "mailto:…"; "localhost:8080" is a host
            raise KbError("origin_scheme", N_("The address must start with https:// or http://."), field="origin")
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise KbError("origin_invalid", N_("%(value)s is not a web address.", value=text.strip()), field="origin") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS:
        raise KbError("origin_scheme", N_("The address must start with https:// or http://."), field="origin")
    if not host or parts.username or parts.password or any(ch in host for ch in " *\\") or not host.isprintable():
        raise KbError("origin_invalid", N_("%(value)s is not a web address.", value=text.strip()), field="origin")
    if ":" in host:  # an IPv6 literal keeps its brackets in an Origin header
        host = f"[{host}]"
    suffix = f":{port}" if port and port != _DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


class WidgetOrigins:
    """Read and change the allowed origins (one connection; callers own transactions)."""

    def __init__(self, db: Connection):
        self.db = db

    def all(self) -> list[dict]:
        """Every allowed origin with its note, who added it and when, oldest first."""
        rows = self.db.execute(
            "SELECT origin, note, added_by, created_at FROM widget_origins ORDER BY created_at, origin").fetchall()
        return [dict(row) for row in rows]

    def allows(self, origin: str | None) -> bool:
        """Whether a browser's ``Origin`` header names an allowed site (exact match, as browsers send it)."""
        if not origin:
            return False
        try:
            normalized = parse_origin(origin)
        except KbError:
            return False
        row = self.db.execute("SELECT 1 FROM widget_origins WHERE origin = ?", (normalized,)).fetchone()
        return row is not None

    def add(self, text: str, note: str = "", added_by: str | None = None) -> tuple[str, bool]:
        """Allow an origin; returns it normalized and whether it was new."""
        origin = parse_origin(text)
        count = self.db.execute("SELECT COUNT(*) FROM widget_origins").fetchone()[0]
        if count >= MAX_ORIGINS:
            raise KbError("too_many_origins", N_("At most %(count)d sites.", count=MAX_ORIGINS), field="origin")
        cursor = self.db.execute(
            "INSERT INTO widget_origins (origin, note, added_by) VALUES (?, ?, ?) ON CONFLICT (origin) DO NOTHING",
            (origin, " ".join((note or "").split())[:MAX_NOTE_CHARS], added_by))
        return origin, cursor.rowcount == 1

    def remove(self, origin: str) -> bool:
        """Stop allowing an origin; False if it was not listed."""
        return self.db.execute("DELETE FROM widget_origins WHERE origin = ?", (origin,)).rowcount == 1

"""Agent panel links: signed, revocable, read-only tokens that open ``/agent`` inside a helpdesk.

A link has a name (which helpdesk or team uses it), a public id, the origins allowed to
frame the panel, and a token shown once when it is created:

    kbp_<public id>.<nonce>.<signature>

The nonce is 256 random bits; the signature is an HMAC of ``<public id>.<nonce>`` under the
app's secret key, so a forged or mistyped token is refused before the database is asked,
and changing the secret key retires every link at once.  Only the token's SHA-256 is
stored (as for API keys, :mod:`kb.store.apikeys`), so a copy of the database opens no panel.
A token can only read: suggestions, search and internal articles, plus "helped" votes;
it cannot reach the agent API or the staff area.  Table: ``kb/store/migrations/0006_panel_links.sql``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from kb.store.apikeys import hash_key
from kb.store.db import Connection
from kb.store.db import Row
from kb.store.db import touch_last_used
from kb.store.db import utc_timestamp
from kb.errors import KbError
from kb.translation import N_
from kb.widget_origins import parse_origin

TOKEN_PREFIX = "kbp_"
MAX_NAME_CHARS = 100
MAX_ORIGINS = 20
MAX_TOKEN_CHARS = 200
# last_used_at is refreshed at most this often, so a busy panel does not write on every request.
TOUCH_SECONDS = 60
_PUBLIC_ID = re.compile(r"^[0-9a-f]{12}$")
_COLUMNS = "id, name, public_id, origins, created_at, revoked_at, last_used_at"


@dataclass(frozen=True)
class PanelLink:
    """A stored panel link (never the token itself)."""

    id: int
    name: str
    public_id: str
    origins: tuple[str, ...]
    created_at: str
    revoked_at: str | None
    last_used_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _signature(secret_key: str, public_id: str, nonce: str) -> str:
    digest = hmac.new(secret_key.encode("utf-8"), f"panel:{public_id}.{nonce}".encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def _row_to_link(row: Row) -> PanelLink:
    values = {name: row[name] for name in _COLUMNS.split(", ")}
    values["origins"] = tuple(values["origins"].split())
    return PanelLink(**values)


def normalize_origins(text: str) -> tuple[str, ...]:
    """The origins an admin typed (one per line, or separated by spaces or commas), checked.

    Each must be ``http(s)://host[:port]``: no path, query, user or wildcard, because it goes
    into a ``frame-ancestors`` directive as it is.  A trailing slash is dropped; the rest of the
    normalizing (case, default port, IPv6 brackets) is the widget's :func:`parse_origin`, so both
    keep an origin as a browser sends it.
    """
    origins: list[str] = []
    for item in re.split(r"[\s,]+", text or ""):
        if not item:
            continue
        try:
            parts = urlsplit(item.rstrip("/"))
            if "://" not in item or parts.path or parts.query or parts.fragment or "'" in item or ";" in item:
                raise ValueError(item)
            origin = parse_origin(item)
        except (ValueError, KbError):
            raise KbError("bad_origin", N_("%(origin)r is not an origin: write scheme://host or scheme://host:port "
                                           "(for example https://chat.example.com).", origin=item), field="origins") from None
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise KbError("too_many_origins", N_("At most %(max)d origins per panel link.", max=MAX_ORIGINS), field="origins")
    return tuple(origins)


def create_link(db: Connection, name: str, origins: str, secret_key: str) -> tuple[PanelLink, str]:
    """Store a new link; returns it and its token (the only time the token exists)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise KbError("bad_name", N_("A panel link needs a name of 1 to %(max)d characters.", max=MAX_NAME_CHARS),
                      field="name")
    allowed = normalize_origins(origins)
    public_id = secrets.token_hex(6)
    nonce = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}{public_id}.{nonce}.{_signature(secret_key, public_id, nonce)}"
    link_id = db.execute("INSERT INTO panel_links (name, public_id, token_hash, origins) VALUES (?, ?, ?, ?) RETURNING id",
                         (name, public_id, hash_key(token), " ".join(allowed))).fetchone()[0]
    return get_link(db, link_id), token


def get_link(db: Connection, link_id: int) -> PanelLink:
    row = db.execute(f"SELECT {_COLUMNS} FROM panel_links WHERE id = ?", (link_id,)).fetchone()
    if row is None:
        raise KbError("unknown_panel_link", N_("No panel link %(id)s.", id=link_id), status=404)
    return _row_to_link(row)


def list_links(db: Connection) -> list[PanelLink]:
    """Every link, oldest first, revoked ones included."""
    return [_row_to_link(row) for row in db.execute(f"SELECT {_COLUMNS} FROM panel_links ORDER BY id")]


def find_active(db: Connection, public_id: str) -> PanelLink | None:
    """The active link with this public id (what the panel's URL names), else None."""
    if not _PUBLIC_ID.match(public_id or ""):
        return None
    row = db.execute(f"SELECT {_COLUMNS} FROM panel_links WHERE public_id = ? AND revoked_at IS NULL",
                     (public_id,)).fetchone()
    return _row_to_link(row) if row else None


def revoke_link(db: Connection, link_id: int) -> PanelLink:
    """Revoke a link from now on; revoking twice keeps the first date."""
    get_link(db, link_id)
    db.execute("UPDATE panel_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (utc_timestamp(), link_id))
    return get_link(db, link_id)


def verify_token(db: Connection, token: str, secret_key: str) -> PanelLink | None:
    """The active link this token opens, or None (malformed, forged, unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        return None
    public_id, nonce, signature = token[len(TOKEN_PREFIX):].split(".")
    if not hmac.compare_digest(signature, _signature(secret_key, public_id, nonce)):
        return None
    link = find_active(db, public_id)
    if link is None:
        return None
    row = db.execute("SELECT token_hash FROM panel_links WHERE id = ?", (link.id,)).fetchone()
    if not hmac.compare_digest(row["token_hash"], hash_key(token)):
        return None
    _touch(db, link)
    return link


def _touch(db: Connection, link: PanelLink) -> None:
    touch_last_used(db, "panel_links", link.id, link.last_used_at, TOUCH_SECONDS)


# -- what the panel shows and what agents say about it ------------------------------------------


def record_query(db: Connection, query_id: str, focused: str, slugs: list[str], link_id: int,
                 message_chars: int, took_ms: float) -> None:
    """Keep a panel suggestion like an agent API one (``suggest_queries``), marked with its link."""
    db.execute(
        "INSERT INTO suggest_queries (id, api_key_id, panel_link_id, message_chars, focused, slugs, took_ms) "
        "VALUES (?, NULL, ?, ?, ?, ?, ?)",
        (query_id, link_id, message_chars, focused, json.dumps(slugs, ensure_ascii=False), round(took_ms, 3)),
    )


def record_feedback(db: Connection, query_id: str, slug: str, useful: bool, link_id: int) -> None:
    """Store whether a suggestion shown through this link helped; a later verdict replaces it.

    :raise KbError 404: the query is unknown (or another link's), or did not suggest ``slug``.
    """
    row = None if "\x00" in query_id else db.execute(  # no id holds a NUL; PostgreSQL refuses to compare one
        "SELECT slugs, panel_link_id FROM suggest_queries WHERE id = ?", (query_id,)).fetchone()
    if row is None or row["panel_link_id"] != link_id:
        raise KbError("unknown_query", N_("No suggestions with this query_id."), status=404, field="query_id")
    if slug not in json.loads(row["slugs"]):
        raise KbError("unknown_suggestion", N_("These suggestions did not include that article."), status=404,
                      field="slug")
    db.execute(
        "INSERT INTO suggest_feedback (query_id, slug, useful, api_key_id, panel_link_id, created_at) "
        "VALUES (?, ?, ?, NULL, ?, ?) "
        "ON CONFLICT (query_id, slug) DO UPDATE SET useful = excluded.useful, created_at = excluded.created_at",
        (query_id, slug, int(bool(useful)), link_id, utc_timestamp()),
    )

"""API keys for the agent-assist API: create, list, revoke, verify (the ``kb apikey`` commands are in kb.cli_apikeys).

A key is ``kb_`` + 43 random URL-safe characters (``secrets.token_urlsafe(32)``: 256 bits),
shown once when created.  Only its SHA-256 is stored (a fast hash is enough for a secret
this long: there is nothing to brute-force), plus its first characters so staff can tell
keys apart.  Verification looks the key up by that prefix and compares hashes with
``hmac.compare_digest``.  Tables: ``kb/store/migrations/0002_api.sql``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


from kb.store.db import Connection
from kb.store.db import Row
from kb.store.db import touch_last_used
from kb.store.db import utc_timestamp
from kb.errors import KbError
from kb.translation import N_

KEY_PREFIX = "kb_"
PREFIX_CHARS = len(KEY_PREFIX) + 8
MAX_NAME_CHARS = 100
# last_used_at is refreshed at most this often, so a busy key does not write on every request.
TOUCH_SECONDS = 60
_COLUMNS = "id, name, prefix, created_at, revoked_at, last_used_at, rate_limit"


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    id: int
    name: str
    prefix: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None
    rate_limit: int | None  # requests per minute; None: the api_rate_limit setting

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(key: str) -> str:
    """SHA-256 of a long random secret (API key, panel link token, contact ask token)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _row_to_key(row: Row) -> ApiKey:
    return ApiKey(**{name: row[name] for name in _COLUMNS.split(", ")})


def create_key(db: Connection, name: str, rate_limit: int | None = None) -> tuple[ApiKey, str]:
    """Store a new key; returns it and the secret (the only time the secret exists)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise KbError("bad_name", N_("A key needs a name of 1 to %(max)d characters.", max=MAX_NAME_CHARS), field="name")
    if rate_limit is not None and rate_limit < 1:
        raise KbError("bad_rate_limit", N_("rate_limit must be at least 1 request per minute."), field="rate_limit")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = db.execute(
        f"INSERT INTO api_keys (name, prefix, key_hash, rate_limit) VALUES (?, ?, ?, ?) RETURNING {_COLUMNS}",
        (name, secret[:PREFIX_CHARS], hash_key(secret), rate_limit),
    ).fetchone()
    return _row_to_key(row), secret


def list_keys(db: Connection) -> list[ApiKey]:
    """Every key, oldest first, revoked ones included."""
    return [_row_to_key(row) for row in db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY id")]


def find_key(db: Connection, ident: str) -> ApiKey:
    """A key by its id or by (the start of) its prefix; KbError if none or several match.

    The prefix is matched case-sensitively (keys are base64url: "kb_aB" and "kb_Ab" are two
    keys), in Python: LIKE ignores case on SQLite and not on PostgreSQL, and staff have a
    handful of keys, not thousands."""
    ident = ident.strip()
    if ident.isdigit():
        rows = db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (int(ident),)).fetchall()
    else:
        start = ident[:PREFIX_CHARS]
        rows = [row for row in db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY id").fetchall()
                if start and row["prefix"].startswith(start)]
    if not rows:
        raise KbError("unknown_key", N_("No API key %(key)r: see 'kb apikey list' for ids and prefixes.", key=ident), status=404)
    if len(rows) > 1:
        raise KbError("ambiguous_key", N_("%(key)r matches %(count)d keys: use the id from 'kb apikey list'.", key=ident,
                                          count=len(rows)))
    return _row_to_key(rows[0])


def revoke_key(db: Connection, ident: str) -> ApiKey:
    """Revoke a key (by id or prefix) from now on; revoking twice keeps the first date."""
    key = find_key(db, ident)
    db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (utc_timestamp(), key.id))
    return find_key(db, str(key.id))


def verify_key(db: Connection, secret: str) -> ApiKey | None:
    """The active key this secret belongs to, or None (unknown, malformed or revoked)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) < PREFIX_CHARS + 8 or len(secret) > 200 or "\x00" in secret:
        return None
    wanted = hash_key(secret)
    rows = db.execute(f"SELECT {_COLUMNS}, key_hash FROM api_keys WHERE prefix = ?", (secret[:PREFIX_CHARS],)).fetchall()
    for row in rows:
        if hmac.compare_digest(row["key_hash"], wanted):
            key = _row_to_key(row)
            if not key.active:
                return None
            _touch(db, key)
            return key
    return None


def _touch(db: Connection, key: ApiKey) -> None:
    touch_last_used(db, "api_keys", key.id, key.last_used_at, TOUCH_SECONDS)

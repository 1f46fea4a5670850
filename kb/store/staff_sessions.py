"""Staff sessions kept in the database, so they can be ended from anywhere.

The browser's (signed) cookie carries only a random session id; the ``staff_sessions``
table (migration 0004) holds its SHA-256 with the user and an expiry.  Every request looks
the id up, so ending a session is deleting its row, and it takes effect at once in every
server process that shares the database: a cookie copied before a sign-out, a password
change, a role change or a disable stops working with the next request.

Only the hash is stored: a copy of the database does not hold usable session ids.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from kb.store.db import Connection

SESSION_HOURS = 12


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start(db: Connection, user_id: int, hours: float = SESSION_HOURS, now: float | None = None) -> str:
    """A new session for ``user_id``; returns the id to put in the cookie.  Purges expired rows."""
    now = time.time() if now is None else now
    session_id = secrets.token_urlsafe(32)
    db.execute("DELETE FROM staff_sessions WHERE expires_at <= ?", (now,))
    db.execute("INSERT INTO staff_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
               (_hash(session_id), user_id, now, now + hours * 3600))
    return session_id


def user_id_for(db: Connection, session_id: object, now: float | None = None) -> int | None:
    """The id of the active user whose live session this is, or None (unknown, ended,
    expired, or the account is disabled)."""
    if not isinstance(session_id, str) or not session_id:
        return None
    now = time.time() if now is None else now
    row = db.execute(
        """SELECT s.user_id FROM staff_sessions AS s JOIN staff_users AS u ON u.id = s.user_id
           WHERE s.id_hash = ? AND s.expires_at > ? AND u.active = 1""",
        (_hash(session_id), now),
    ).fetchone()
    return None if row is None else row[0]


def end(db: Connection, session_id: object) -> None:
    """End one session (signing out)."""
    if isinstance(session_id, str) and session_id:
        db.execute("DELETE FROM staff_sessions WHERE id_hash = ?", (_hash(session_id),))


def end_all(db: Connection, user_id: int) -> int:
    """End every session of a user; returns how many were open."""
    return db.execute("DELETE FROM staff_sessions WHERE user_id = ?", (user_id,)).rowcount


def count(db: Connection, user_id: int, now: float | None = None) -> int:
    """How many live sessions a user has (for the users page and tests)."""
    now = time.time() if now is None else now
    row = db.execute("SELECT count(*) FROM staff_sessions WHERE user_id = ? AND expires_at > ?", (user_id, now))
    return row.fetchone()[0]

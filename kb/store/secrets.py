"""Secrets every serving process must agree on, made once and read by all.

The cookie-signing key: a staff session cookie signed by one process must be accepted by
every other.  Processes on one machine share ``data_dir``, so the SQLite install keeps the
key there (:func:`kb.config.ensure_secret_key`, race-free).  Nodes of a PostgreSQL cluster
share nothing but the database, so there the key lives in it (``shared_secrets``, migration
0011): the first process to ask inserts one, the others' inserts do nothing
(``ON CONFLICT DO NOTHING``), and everyone reads the row that won.  A ``secret_key`` setting
wins over both (then every node must be given the same one).
"""

from __future__ import annotations

import secrets

from kb.config import Settings
from kb.config import ensure_secret_key
from kb.store.db import Connection
from kb.store.db import Database
from kb.store.db import utc_timestamp

SECRET_KEY = "secret_key"


def shared_secret(db: Connection, name: str) -> str:
    """The secret called `name`, made now (64 hex digits) if no process made it before."""
    db.execute("INSERT INTO shared_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
               (name, secrets.token_hex(32), utc_timestamp()))
    return db.execute("SELECT value FROM shared_secrets WHERE name = ?", (name,)).fetchone()["value"]


def set_shared_secret(db: Connection, name: str, value: str) -> None:
    """Replace a secret (``kb restore`` bringing back the key the sessions were signed with)."""
    db.execute("INSERT INTO shared_secrets (name, value, created_at) VALUES (?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
               (name, value, utc_timestamp()))


def app_secret_key(settings: Settings, database: Database) -> str:
    """The cookie-signing key: the setting, else the database's on PostgreSQL (shared by every
    node), else the one kept in data_dir (shared by every process on this machine)."""
    if settings.secret_key:
        return settings.secret_key
    if database.dialect == "postgresql":
        return shared_secret(database.connection(), SECRET_KEY)
    return ensure_secret_key(settings)

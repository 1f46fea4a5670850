"""SQLite database (WAL mode) for analytics, API keys and staff: connections and migrations.

Migrations are numbered SQL files in ``kb/store/migrations/`` (``0001_analytics.sql`` …), applied
in order, each in its own transaction, and recorded in ``schema_migrations``; a feature adds
its tables by adding a file.  One connection per thread (sqlite3 objects must not cross
threads); in Flask, ``get_db()`` keeps one per request context.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # how tables store a moment: UTC, sorts as text


def utc_timestamp(moment: dt.datetime | None = None) -> str:
    """``moment`` (default: now) as the tables store it."""
    return (moment or dt.datetime.now(dt.timezone.utc)).strftime(TIMESTAMP_FORMAT)


def window_start(days: int | None) -> str:
    """The timestamp ``days`` days ago, for ``created_at >= ?`` in reports; None: since the beginning."""
    if days is None:
        return "0000"
    return utc_timestamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days))


def touch_last_used(db: sqlite3.Connection, table: str, row_id: int, last_used_at: str | None,
                    every_seconds: int) -> None:
    """Set a row's ``last_used_at`` to now unless it was set less than ``every_seconds`` ago,
    so a busy API key or panel link does not write on every request.  ``table`` is a constant
    of the calling module, never user input."""
    now = dt.datetime.now(dt.timezone.utc)
    if last_used_at:
        last = dt.datetime.strptime(last_used_at, TIMESTAMP_FORMAT).replace(tzinfo=dt.timezone.utc)
        if (now - last).total_seconds() < every_seconds:
            return
    db.execute(f"UPDATE {table} SET last_used_at = ? WHERE id = ?", (utc_timestamp(now), row_id))


def connect(path: Path) -> sqlite3.Connection:
    """A connection with WAL, foreign keys and a busy timeout, rows as sqlite3.Row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=30000")
    return db


@contextlib.contextmanager
def durable(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Commits made inside the block are on disk when they return, power loss included.

    The connection runs with ``synchronous=NORMAL`` (WAL mode: a commit survives a crash of
    the process, but the last ones can vanish if the machine loses power before the next
    checkpoint).  Writes that are acknowledged to a user as done (a publish and its revision
    row) switch to ``FULL``, which fsyncs the WAL at every commit; analytics and the rest
    keep the cheaper mode."""
    db.execute("PRAGMA synchronous=FULL")
    try:
        yield db
    finally:
        db.execute("PRAGMA synchronous=NORMAL")


def migrate(db: sqlite3.Connection, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not applied yet; returns their names."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))")
    done = {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
    applied = []
    for path in sorted(migrations_dir.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if path.stem in done:
            continue
        name = path.stem.replace("'", "")
        script = f"BEGIN IMMEDIATE;\n{path.read_text(encoding='utf-8')}\n;INSERT INTO schema_migrations (name) VALUES ('{name}');\nCOMMIT;"
        try:
            db.executescript(script)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        applied.append(path.stem)
    return applied


class Database:
    """Per-thread connections to one database file, migrated once at start."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        migrate(self.connection())

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
        return db

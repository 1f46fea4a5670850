"""The database: SQLite (the default, a file under data_dir) or PostgreSQL (``database_url``), one API.

Why one small portable layer rather than SQLAlchemy + Alembic: kb's SQL is ~130 hand-written
statements in a small common subset of the two dialects and there is no ORM to feed, so the only
differences left are the placeholder style, the driver's rows and errors, and a handful of DDL
words.  They are handled in two short tables (the placeholder rewrite in kb.store.postgres,
``_PG_DDL`` in kb.store.migrate) instead of through a dependency that would touch every query.

The portable subset every module writes (README, "Database"): ``?`` placeholders;
``INSERT ... RETURNING id`` (never ``lastrowid``); ``ON CONFLICT (cols) DO NOTHING / DO UPDATE SET
x = excluded.x``; timestamps computed in Python (``utc_timestamp()``), stored as TEXT; transactions
through ``conn.transaction()`` (never ``BEGIN`` strings); ``lower(col) = lower(?)`` for
case-insensitive matches; ``COALESCE``, not ``IFNULL``; booleans as INTEGER 0/1.  One PostgreSQL
rule has no SQLite twin: an error inside a transaction aborts the whole transaction, so a
statement expected to collide uses ``ON CONFLICT`` instead of catching ``IntegrityError``.

This module is the façade every query goes through (``Database``, ``Connection``, ``connect``);
what each driver needs apart is in its own module, which this one calls and never the other way
round: kb.store.sqlite (opening the file, WAL, sqlite3's errors) and kb.store.postgres (psycopg:
rows, placeholders, errors, advisory-lock keys), both raising kb.store.db_errors' classes.  Every
public name of those is importable from here as before.

Migrations (the numbered SQL files, applied once each by racing processes) are kb.store.migrate's;
``Database`` runs them when it opens unless told not to.

Connections are per thread (neither driver's connection may cross threads) and per process (a
connection inherited through ``fork`` is left alone, never closed or used, in the child).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Iterable
from typing import Iterator

from kb.store.db_errors import Error
from kb.store.db_errors import IntegrityError
from kb.store.db_errors import OperationalError
from kb.store.postgres import POSTGRESQL_EXTRA
from kb.store.postgres import Row
from kb.store.postgres import connect_postgresql
from kb.store.postgres import lock_key
from kb.store.postgres import pg_errors
from kb.store.postgres import pg_in_transaction
from kb.store.postgres import pg_params
from kb.store.postgres import pg_placeholders
from kb.store.postgres import redact
from kb.store.sqlite import connect_sqlite
from kb.store.sqlite import sqlite_errors

__all__ = [
    "Connection", "Database", "Error", "IntegrityError", "OperationalError", "POSTGRESQL_EXTRA", "Row",
    "TIMESTAMP_FORMAT", "Target", "connect", "durable", "lock_key", "parse_target", "pg_placeholders",
    "redact", "table_columns", "touch_last_used", "utc_timestamp", "window_start",
]

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # how tables store a moment: UTC, sorts as text


def utc_timestamp(moment: dt.datetime | None = None) -> str:
    """``moment`` (default: now) as the tables store it."""
    return (moment or dt.datetime.now(dt.timezone.utc)).strftime(TIMESTAMP_FORMAT)


def window_start(days: int | None) -> str:
    """The timestamp ``days`` days ago, for ``created_at >= ?`` in reports; None: since the beginning."""
    if days is None:
        return "0000"
    return utc_timestamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days))


def touch_last_used(db: "Connection", table: str, row_id: int, last_used_at: str | None,
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


# --- where the database is ---------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A parsed database location: ``dialect`` plus a SQLite ``path`` or a PostgreSQL ``url``."""

    dialect: str
    path: Path | None = None
    url: str = ""

    def describe(self) -> str:
        """For messages and logs: the file, or the URL without its password."""
        return str(self.path) if self.path is not None else redact(self.url)


def parse_target(target: Path | str) -> Target:
    """A Path or plain path: SQLite file; ``sqlite:///relative`` or ``sqlite:////absolute`` (the
    SQLAlchemy spelling); ``postgresql://user:password@host:port/database?sslmode=...``."""
    if isinstance(target, Path):
        return Target("sqlite", path=target)
    text = str(target).strip()
    if text.startswith("sqlite:///"):
        return Target("sqlite", path=Path(text[len("sqlite:///"):]))
    if text.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return Target("postgresql", url="postgresql://" + text.split("://", 1)[1])
    if "://" in text or not text:
        raise ValueError(f"unsupported database URL {redact(text)!r}: use postgresql://user:password@host:5432/database, "
                         f"sqlite:////absolute/path.sqlite3, or leave it empty for the SQLite file in data_dir")
    return Target("sqlite", path=Path(text))


# --- connections ---------------------------------------------------------------------------------

class Connection:
    """One thread's connection, with the same methods on both databases.

    ``execute`` / ``executemany`` return the driver's cursor (``fetchone``, ``fetchall``, iteration,
    ``rowcount``); statements outside ``transaction()`` commit on their own (autocommit)."""

    def __init__(self, raw, dialect: str):
        self.raw = raw
        self.dialect = dialect
        self._savepoints = itertools.count(1)

    # statements

    def execute(self, sql: str, params: Iterable[Any] = ()):
        if self.dialect == "sqlite":
            with sqlite_errors():
                return self.raw.execute(sql, params)
        cursor = self.raw.cursor()
        with pg_errors():
            if params:
                cursor.execute(pg_placeholders(sql), pg_params(params))
            else:
                cursor.execute(sql)
        return cursor

    def executemany(self, sql: str, seq_of_params: Iterable[Iterable[Any]]):
        if self.dialect == "sqlite":
            with sqlite_errors():
                return self.raw.executemany(sql, seq_of_params)
        cursor = self.raw.cursor()
        with pg_errors():
            cursor.executemany(pg_placeholders(sql), [pg_params(params) for params in seq_of_params])
        return cursor

    # transactions

    @property
    def in_transaction(self) -> bool:
        if self.dialect == "sqlite":
            return self.raw.in_transaction
        return pg_in_transaction(self.raw)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Connection"]:
        """Commit when the block ends, roll back (and re-raise) when it raises.

        SQLite takes the write lock at the start (``BEGIN IMMEDIATE``: no deadlock when two
        writers read then write); PostgreSQL starts a READ COMMITTED transaction, where
        ``lock(name)`` serializes the writers that need it.  Nested, it is a savepoint."""
        if self.in_transaction:
            name = f"kb_savepoint_{next(self._savepoints)}"
            begin, commit, rollback = f"SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}", f"ROLLBACK TO SAVEPOINT {name}"
        else:
            begin = "BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN"
            commit, rollback = "COMMIT", "ROLLBACK"
        self.execute(begin)
        try:
            yield self
        except BaseException:
            self._quietly(rollback)
            raise
        try:
            self.execute(commit)
        except BaseException:
            self._quietly(rollback)
            raise

    def _quietly(self, sql: str) -> None:
        """Roll back, keeping the error that got us here (a lost connection cannot roll back)."""
        with contextlib.suppress(Exception):
            if self.in_transaction:
                self.execute(sql)

    def lock(self, name: str) -> None:
        """Serialize the transactions that take the same named lock, until they end.

        PostgreSQL: ``pg_advisory_xact_lock``; SQLite: nothing to do, ``BEGIN IMMEDIATE``
        already lets one writer in at a time."""
        if not self.in_transaction:
            raise RuntimeError("lock() only works inside conn.transaction(): the lock ends with the transaction")
        if self.dialect == "postgresql":
            self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name),))

    def notify(self, channel: str, payload: str = "") -> None:
        """PostgreSQL ``NOTIFY`` (sent at commit when inside a transaction); nothing on SQLite,
        where every process polls the same file."""
        if self.dialect == "postgresql":
            self.execute("SELECT pg_notify(?, ?)", (channel, payload))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.close()


def connect(target: Path | str | Target) -> Connection:
    """A new connection.  SQLite: WAL, foreign keys, a 30 s busy timeout.  PostgreSQL: autocommit,
    rows by name and index, NUMERIC results as int or float (as SQLite gives them)."""
    target = target if isinstance(target, Target) else parse_target(target)
    if target.dialect == "sqlite":
        return Connection(connect_sqlite(target.path), "sqlite")  # type: ignore[arg-type]
    return Connection(connect_postgresql(target.url), "postgresql")


@contextlib.contextmanager
def durable(db: Connection) -> Iterator[Connection]:
    """Commits made inside the block are on disk when they return, power loss included.

    SQLite runs with ``synchronous=NORMAL`` (WAL mode: a commit survives a crash of the
    process, but the last ones can vanish if the machine loses power before the next
    checkpoint).  Writes that are acknowledged to a user as done (a publish and its revision
    row) switch to ``FULL``, which fsyncs the WAL at every commit; analytics and the rest
    keep the cheaper mode.  PostgreSQL commits are durable already (synchronous_commit)."""
    if getattr(db, "dialect", "sqlite") != "sqlite":
        yield db
        return
    db.execute("PRAGMA synchronous=FULL")
    try:
        yield db
    finally:
        db.execute("PRAGMA synchronous=NORMAL")


def table_columns(conn: Connection, table: str) -> list[str]:
    """The column names of ``table``, on both databases (``table`` is a constant, never input)."""
    return [column[0] for column in conn.execute(f"SELECT * FROM {table} WHERE 1 = 0").description]


# --- the database -----------------------------------------------------------------------------------

class Database:
    """Per-thread connections to one database, migrated once at start (unless ``migrate=False``).

    ``Database(path)`` is a SQLite file; ``Database("postgresql://...")`` a PostgreSQL database;
    ``Database.from_settings(settings)`` follows ``database_url`` (empty: data_dir/kb.sqlite3)."""

    def __init__(self, target: Path | str, migrate: bool = True):
        self.target = parse_target(target)
        self.dialect = self.target.dialect
        self.path = self.target.path
        self._local = threading.local()
        self._opened: list[tuple[int, Connection]] = []
        self._opened_lock = threading.Lock()
        self.migrated: list[str] = []
        self.migration_seconds = 0.0
        if migrate:
            from kb.store.migrate import migrate as run_migrations  # kb.store.migrate builds on this module

            started = time.perf_counter()
            self.migrated = run_migrations(self.connection())
            self.migration_seconds = time.perf_counter() - started

    @classmethod
    def from_settings(cls, settings, migrate: bool = True) -> "Database":
        return cls(settings.database_url or settings.database_path, migrate=migrate)

    def describe(self) -> str:
        return self.target.describe()

    def connection(self) -> Connection:
        """This thread's connection (a new one after a fork, or when PostgreSQL dropped it)."""
        conn = getattr(self._local, "conn", None)
        pid = os.getpid()
        if conn is not None and getattr(self._local, "pid", pid) != pid:
            conn = None  # inherited through fork: the parent's; left alone (closing it would close the parent's)
        elif conn is not None and self.dialect == "postgresql" and (conn.raw.closed or conn.raw.broken):
            conn = None
        if conn is None:
            conn = connect(self.target)
            self._local.conn, self._local.pid = conn, pid
            with self._opened_lock:
                self._opened.append((pid, conn))
        return conn

    def close(self) -> None:
        """Close every connection this process opened (at shutdown; threads must be done with them)."""
        pid = os.getpid()
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for opener, conn in opened:
            if opener == pid:  # never a connection inherited through fork: it is still the parent's
                conn.close()
        self._local = threading.local()

"""The database: SQLite (the default, a file under data_dir) or PostgreSQL (``database_url``), one API.

Why one small portable layer rather than SQLAlchemy + Alembic: kb's SQL is ~130 hand-written
statements in a small common subset of the two dialects and there is no ORM to feed, so the only
differences left are the placeholder style, the driver's rows and errors, and a handful of DDL
words.  They are handled in two short tables (the placeholder rewrite here, ``_PG_DDL`` in
kb.store.migrate) instead of through a dependency that would touch every query.

The portable subset every module writes (README, "Database"): ``?`` placeholders;
``INSERT ... RETURNING id`` (never ``lastrowid``); ``ON CONFLICT (cols) DO NOTHING / DO UPDATE SET
x = excluded.x``; timestamps computed in Python (``utc_timestamp()``), stored as TEXT; transactions
through ``conn.transaction()`` (never ``BEGIN`` strings); ``lower(col) = lower(?)`` for
case-insensitive matches; ``COALESCE``, not ``IFNULL``; booleans as INTEGER 0/1.  One PostgreSQL
rule has no SQLite twin: an error inside a transaction aborts the whole transaction, so a
statement expected to collide uses ``ON CONFLICT`` instead of catching ``IntegrityError``.

Migrations (the numbered SQL files, applied once each by racing processes) are kb.store.migrate's;
``Database`` runs them when it opens unless told not to.

Connections are per thread (neither driver's connection may cross threads) and per process (a
connection inherited through ``fork`` is left alone, never closed or used, in the child).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import itertools
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Iterable
from typing import Iterator
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # how tables store a moment: UTC, sorts as text
POSTGRESQL_EXTRA = "pip install 'kb[postgresql]' (psycopg 3)"

# Errors: subclasses of sqlite3's, raised for both drivers, so ``except db.IntegrityError`` (and
# older ``except sqlite3.IntegrityError``) catch a unique violation whichever database answered.
Error = sqlite3.Error


class IntegrityError(sqlite3.IntegrityError):
    """A constraint refused the write (unique, foreign key, check, not null)."""

    sqlstate: str | None = None


class OperationalError(sqlite3.OperationalError):
    """Any other database error: unreachable server, missing table, bad SQL, lock timeout."""

    sqlstate: str | None = None


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


def redact(url: str) -> str:
    """``url`` with the password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = f"{parts.username or ''}:***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc[-1]}"))


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


# --- rows and placeholders (PostgreSQL) ------------------------------------------------------------

class Row:
    """A PostgreSQL row that answers like sqlite3.Row: ``row["col"]``, ``row[0]``, ``keys()``, ``dict(row)``."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: tuple):
        self._index = index
        self._values = values

    def __getitem__(self, key):
        if isinstance(key, str):
            position = self._index.get(key)
            if position is None:
                position = self._index.get(key.lower())
                if position is None:
                    raise IndexError(f"No item with that key: {key!r}")
            return self._values[position]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other) -> bool:
        if isinstance(other, Row):
            return self._index == other._index and self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values))!r})"


def _row_factory(cursor):
    description = cursor.description
    if description is None:
        return tuple
    index: dict[str, int] = {}
    for position, column in enumerate(description):
        index.setdefault(column.name, position)
    return lambda values: Row(index, values)


# One token at a time: a string literal, a quoted name, a comment, a placeholder, or a percent sign.
_SQL_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?|%", re.S)


@functools.lru_cache(maxsize=2048)
def pg_placeholders(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s``, and every literal ``%`` doubled (psycopg reads ``%``
    everywhere, string literals included).  A ``?`` inside a string, a quoted name or a comment
    stays a question mark."""

    def replace(match: re.Match) -> str:
        token = match.group()
        if token == "?":
            return "%s"
        return token.replace("%", "%%")

    return _SQL_TOKENS.sub(replace, sql)


def _pg_params(params) -> tuple | list:
    """sqlite3 stores ``True`` as 1; PostgreSQL would refuse a boolean in an INTEGER column."""
    if isinstance(params, dict):
        raise TypeError("named parameters are not portable: use ? placeholders and a sequence")
    return [int(value) if isinstance(value, bool) else value for value in params]


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
            with _sqlite_errors():
                return self.raw.execute(sql, params)
        cursor = self.raw.cursor()
        with _pg_errors():
            if params:
                cursor.execute(pg_placeholders(sql), _pg_params(params))
            else:
                cursor.execute(sql)
        return cursor

    def executemany(self, sql: str, seq_of_params: Iterable[Iterable[Any]]):
        if self.dialect == "sqlite":
            with _sqlite_errors():
                return self.raw.executemany(sql, seq_of_params)
        cursor = self.raw.cursor()
        with _pg_errors():
            cursor.executemany(pg_placeholders(sql), [_pg_params(params) for params in seq_of_params])
        return cursor

    # transactions

    @property
    def in_transaction(self) -> bool:
        if self.dialect == "sqlite":
            return self.raw.in_transaction
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

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


def lock_key(name: str) -> int:
    """A lock name as PostgreSQL's advisory-lock key (a signed 64-bit integer)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def _sqlite_errors() -> Iterator[None]:
    """sqlite3's integrity and operational errors as this module's subclasses of them."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if isinstance(exc, IntegrityError):
            raise
        raise IntegrityError(*exc.args) from exc
    except sqlite3.OperationalError as exc:
        if isinstance(exc, OperationalError):
            raise
        raise OperationalError(*exc.args) from exc


@contextlib.contextmanager
def _pg_errors() -> Iterator[None]:
    """psycopg's errors as this module's (subclasses of sqlite3's), the original as ``__cause__``."""
    import psycopg

    try:
        yield
    except psycopg.IntegrityError as exc:
        error = IntegrityError(str(exc).strip())
        error.sqlstate = exc.sqlstate
        raise error from exc
    except psycopg.Error as exc:
        error = OperationalError(str(exc).strip())
        error.sqlstate = exc.sqlstate
        raise error from exc


def connect(target: Path | str | Target) -> Connection:
    """A new connection.  SQLite: WAL, foreign keys, a 30 s busy timeout.  PostgreSQL: autocommit,
    rows by name and index, NUMERIC results as int or float (as SQLite gives them)."""
    target = target if isinstance(target, Target) else parse_target(target)
    if target.dialect == "sqlite":
        return Connection(_connect_sqlite(target.path), "sqlite")  # type: ignore[arg-type]
    return Connection(_connect_postgresql(target.url), "postgresql")


def _connect_sqlite(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        _switch_to_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
    except (OSError, sqlite3.Error) as exc:
        raise OperationalError(f"cannot open the SQLite database {path}: {exc}") from exc
    return db


def _switch_to_wal(db: sqlite3.Connection, wait: float = 30.0) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another process holds the file.

    Switching a new file to WAL needs it alone for a moment, and SQLite answers "database is
    locked" at once, without its busy timeout, when processes opening a fresh database
    together collide there (reproduced: 3 of 15 starts of 6 processes failed).  Once the
    file is in WAL mode the pragma is a no-op and never waits."""
    deadline = time.monotonic() + wait
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _connect_postgresql(url: str):
    try:
        import psycopg
    except ImportError:
        raise OperationalError(f"database_url is PostgreSQL but psycopg is not installed: {POSTGRESQL_EXTRA}") from None
    options = {}
    if "connect_timeout" not in url:
        options["connect_timeout"] = 10
    if "application_name" not in url:
        options["application_name"] = "kb"
    try:
        raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory, **options)
    except psycopg.Error as exc:
        error = OperationalError(f"cannot connect to PostgreSQL at {redact(url)}: {str(exc).strip()}")
        error.sqlstate = exc.sqlstate
        raise error from None
    raw.adapters.register_loader("numeric", _numeric_loader())
    return raw


@functools.cache
def _numeric_loader():
    """NUMERIC (what PostgreSQL's SUM of integers and AVG return) as int when whole, else float,
    as SQLite returns them, instead of Decimal."""
    from psycopg.adapt import Loader

    class NumericLoader(Loader):
        def load(self, data):
            text = bytes(data).decode()
            return int(text) if text.lstrip("-").isdigit() else float(text)

    return NumericLoader


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

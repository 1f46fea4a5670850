"""PostgreSQL's side of kb.store.db: psycopg 3 made to answer like sqlite3.

kb writes one portable subset of SQL (kb.store.db) in SQLite's spelling.  What PostgreSQL needs
beyond that is here: connecting (autocommit, a timeout, the application name), rows that read
like ``sqlite3.Row``, NUMERIC results as int or float instead of Decimal, the ``?`` placeholders
rewritten for psycopg, booleans as 0/1, psycopg's errors as kb.store.db_errors', the transaction
state, advisory-lock keys, and URLs without their password for messages.  (The DDL words of the
migrations are kb.store.migrate's ``_PG_DDL``.)

kb.store.db's ``Connection`` calls these and re-exports the public names; this module imports
nothing of the façade.  psycopg itself (the ``kb[postgresql]`` extra) is imported only when a
PostgreSQL database is used, so a SQLite installation never needs it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
from typing import Iterator
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from kb.store.db_errors import IntegrityError
from kb.store.db_errors import OperationalError

POSTGRESQL_EXTRA = "pip install 'kb[postgresql]' (psycopg 3)"


def redact(url: str) -> str:
    """``url`` with the password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = f"{parts.username or ''}:***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc[-1]}"))


# --- rows and placeholders ---------------------------------------------------------------------------

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


def pg_params(params) -> tuple | list:
    """sqlite3 stores ``True`` as 1; PostgreSQL would refuse a boolean in an INTEGER column."""
    if isinstance(params, dict):
        raise TypeError("named parameters are not portable: use ? placeholders and a sequence")
    return [int(value) if isinstance(value, bool) else value for value in params]


# --- errors, transactions, locks -----------------------------------------------------------------------

@contextlib.contextmanager
def pg_errors() -> Iterator[None]:
    """psycopg's errors as kb.store.db's (subclasses of sqlite3's), the original as ``__cause__``."""
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


def pg_in_transaction(raw) -> bool:
    """Whether the psycopg connection ``raw`` is inside a transaction (or a failed one)."""
    from psycopg.pq import TransactionStatus

    return raw.info.transaction_status != TransactionStatus.IDLE


def lock_key(name: str) -> int:
    """A lock name as PostgreSQL's advisory-lock key (a signed 64-bit integer)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


# --- connections ---------------------------------------------------------------------------------

def connect_postgresql(url: str):
    """A new psycopg connection to ``url``: autocommit, rows by name and index, NUMERIC as int or
    float; a clear OperationalError (password redacted) when psycopg is missing or the server
    refuses."""
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

"""SQLite's side of kb.store.db: opening the file (WAL, foreign keys, busy timeout) and its errors.

sqlite3 already speaks kb's portable subset (``?`` placeholders, rows by name and index), so
all that is left here is how a connection is opened, including the retry that lets processes
starting together switch a fresh file to WAL, and the translation of sqlite3's errors into
kb.store.db_errors' subclasses of them.  kb.store.db's ``Connection`` calls it; it imports
nothing of the façade.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Iterator

from kb.store.db_errors import IntegrityError
from kb.store.db_errors import OperationalError


@contextlib.contextmanager
def sqlite_errors() -> Iterator[None]:
    """sqlite3's integrity and operational errors as kb.store.db's subclasses of them."""
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


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """A new connection to the file at ``path`` (created with its folder if missing): autocommit,
    ``sqlite3.Row`` rows, WAL with ``synchronous=NORMAL``, foreign keys, a 30 s busy timeout."""
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

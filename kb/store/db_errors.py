"""The database errors kb raises, one family for both drivers.

Subclasses of sqlite3's, raised for SQLite and PostgreSQL alike, so ``except db.IntegrityError``
(and older ``except sqlite3.IntegrityError``) catch a unique violation whichever database
answered.  Apart from kb.store.db so that the driver modules (kb.store.sqlite, kb.store.postgres)
can raise them without importing the façade that imports them; kb.store.db re-exports all three.
"""

from __future__ import annotations

import sqlite3

Error = sqlite3.Error


class IntegrityError(sqlite3.IntegrityError):
    """A constraint refused the write (unique, foreign key, check, not null)."""

    sqlstate: str | None = None


class OperationalError(sqlite3.OperationalError):
    """Any other database error: unreachable server, missing table, bad SQL, lock timeout."""

    sqlstate: str | None = None

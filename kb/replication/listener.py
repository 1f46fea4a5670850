"""Waiting for the next change: a PostgreSQL ``LISTEN`` on a connection of its own, else the poll.

Apart from :mod:`.applier` because it is plumbing of its own: a second connection, opened
lazily, that no pool manages, and the fallback when it cannot be opened or is lost.  A
notification only shortens the wait; the applier's poll still finds every change (a
notification lost while the connection was down costs at most one poll interval).  SQLite
has no notifications: the wait is the poll interval.  Logged on the applier's logger (the
owner's, as :class:`~kb.background.BackgroundLoop` does), where operators look for it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from typing import Callable

from kb.store import changes

if TYPE_CHECKING:
    from kb.store.db import Database


class ChangeListener:
    """The change channel's ``LISTEN`` connection of one applier (PostgreSQL), opened on the
    first wait; on SQLite, or while it cannot be opened, every wait is a plain sleep."""

    def __init__(self, database: Database, poll_seconds: float, log: logging.Logger):
        self.database = database
        self.poll_seconds = poll_seconds
        self._log = log
        self._connection = None

    @property
    def listening(self) -> bool:
        """Whether changes arrive by notification (False: the poll is all there is)."""
        return self._connection is not None

    def wait(self, seconds: float, sleep: Callable[[float], None]) -> None:
        """Until a notification, or `seconds` through `sleep` (the loop's: a wake() ends it)."""
        connection = self._listen()
        if connection is None:
            sleep(seconds)
            return
        try:
            for _ in connection.notifies(timeout=seconds, stop_after=1):
                break
        except Exception:  # noqa: BLE001 - connection lost: poll until it is back
            self._log.warning("replication: LISTEN connection lost; polling every %.0f s", self.poll_seconds)
            self.close()
            sleep(seconds)

    def _listen(self):
        """A connection LISTENing on the change channel (PostgreSQL), or None (poll)."""
        if self._connection is not None or self.database.dialect != "postgresql":
            return self._connection
        try:
            import psycopg

            connection = psycopg.connect(self.database.target.url, autocommit=True)
            connection.execute(f"LISTEN {changes.CHANNEL}")
        except Exception as exc:  # noqa: BLE001 - polling still keeps the node in step
            self._log.warning("replication: cannot LISTEN (%s); polling every %.0f s", exc, self.poll_seconds)
            return None
        self._connection = connection
        return connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001
                pass

"""Whether a ``kb serve`` is serving an index folder right now.

Every serving process holds a shared flock(2) on ``serving.lock`` beside the index for its
whole life; the kernel drops it when the process ends, however it ends (no pid file to go
stale).  A command that must not run beside a server takes the same lock exclusively,
without waiting: ``kb restore`` moves the SQLite file and the articles folder aside and
rebuilds the index, so a server still running would keep writing to the file moved aside
(publishes it acknowledged, then lost) and serve an index replaced under it.  While the
command holds the lock, a server that starts waits for it to finish.

Only this machine's servers are seen: nodes of a cluster on other machines share the
database, not this folder (a PostgreSQL restore is one transaction for them, kb.backup).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from kb.errors import KbError
from kb.fsutil import file_lock
from kb.translation import N_

FILE_NAME = "serving.lock"


class ServingMarker:
    """Held by a serving process for as long as it serves `index_dir` (:meth:`close` or exit).

    A shared lock, held past any block, so not :func:`kb.fsutil.file_lock` (exclusive, for a block)."""

    def __init__(self, index_dir: Path):
        path = Path(index_dir) / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_SH)  # waits while a restore holds it exclusively

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def without_a_server(index_dir: Path, command: str) -> Iterator[None]:
    """Run the block with no ``kb serve`` on `index_dir`, none starting meanwhile; a clear
    error (code ``server_running``) at once when one is serving it."""
    with file_lock(Path(index_dir) / FILE_NAME, 0) as held:  # exclusive, one try
        if not held:
            raise KbError("server_running", N_(
                "kb serve is running on %(folder)s: stop it before %(command)s (it would go on writing to the "
                "database and folders this replaces, and what it wrote would be lost)",
                folder=str(index_dir), command=command), status=409)
        yield

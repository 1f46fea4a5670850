"""The model's readings of recent questions, shared by the worker processes of one server.

Each process remembers what the model read of recent questions (``kb.search.question_memo``),
but ``kb serve --workers N`` (the deployment guide's systemd unit runs two) spreads requests
over N processes that each keep their own: the widget's counting request, 1.5 s after the
search it counts, or the next page of results reaches the process that read the question
only one time in N, and the others read it again (about 40 ms of the model a question).

Here the workers of one server also keep their readings in one SQLite file, made by the
supervisor in a temporary folder for its lifetime (``kb.cli_serve``): a process that has
not read a text looks there before asking the model.  A look-up is a primary-key read of
2 to 3 kB; a new reading is one insert (WAL, no fsync: it is a cache, and a reading lost
in a crash is read again).  Bounded: the oldest readings beyond `max_readings` are
deleted as new ones come in, first in first out (each process's own memo keeps its most
used ones whatever this file drops).

A cache must never cost a search: any SQLite error (the folder gone, the disk full, a lock
held too long) makes the look-up find nothing and the insert do nothing, logged once.

The folder (:func:`server_readings`) holds the supervisor's process id: a server stopped
normally removes its folder, and the next server removes the folders of supervisors that
died without doing so (``kill -9``, a power loss without a ``PrivateTmp``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from typing import Hashable
from typing import Sequence

import numpy as np

logger = logging.getLogger(__name__)

MAX_SHARED_READINGS = 8192  # about 20 MB: four times a process's own memo
BUSY_MS = 100  # how long a look-up or insert waits for another worker's write before giving up
FOLDER_PREFIX = "kb-question-readings-"
OWNER_FILE = "supervisor.pid"  # in the folder: the process whose lifetime it lasts


@contextmanager
def server_readings(parent: Path | None = None) -> Iterator[SharedReadings]:
    """The shared readings of one server, in a new temporary folder (in `parent`, else
    ``TMPDIR``) removed when the block ends; the folders that supervisors killed before
    they could remove theirs are removed first (:func:`remove_abandoned`)."""
    parent = Path(parent or tempfile.gettempdir())
    remove_abandoned(parent)
    with tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX, dir=parent) as folder:
        (Path(folder) / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
        yield SharedReadings.create(Path(folder) / "readings.sqlite3")


def remove_abandoned(parent: Path) -> list[Path]:
    """Removes this user's readings folders in `parent` whose supervisor is no longer running,
    and returns them.  A folder without an owner file (not made here) or of a live process is
    left alone, and so is one that cannot be read or removed (never an error: the server starts)."""
    removed = []
    for folder in sorted(parent.glob(FOLDER_PREFIX + "*")):
        try:
            if folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / OWNER_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
        if pid <= 0 or _running(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
            logger.info("removed %s, left by a server that stopped without removing it", folder)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


class SharedReadings:
    """Readings by (kind, text) in the SQLite file at `path`, for every process that opens it.

    Opened lazily in the process that uses it, and again after a fork: a connection never
    crosses into a child process."""

    def __init__(self, path: Path, max_readings: int = MAX_SHARED_READINGS):
        self.path = Path(path)
        self.max_readings = max_readings
        self._db: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._warned = False

    @classmethod
    def create(cls, path: Path, max_readings: int = MAX_SHARED_READINGS) -> SharedReadings:
        """The file made now, empty, with no connection left open (the supervisor, before it
        forks its workers: they would otherwise race to make it)."""
        shared = cls(path, max_readings)
        with shared._lock:
            shared._connection()
        shared.close()
        return shared

    def get_many(self, kind: Hashable, texts: Sequence[str]) -> dict[str, object]:
        """The readings of `texts` some process has kept (those it has not are left out)."""
        if not texts:
            return {}
        keys = {_key(kind, text): text for text in texts}
        marks = ",".join("?" * len(keys))
        try:
            with self._lock:
                rows = self._connection().execute(f"SELECT key, reading FROM readings WHERE key IN ({marks})",
                                                  list(keys)).fetchall()
            return {keys[key]: decode(blob) for key, blob in rows}
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._warn(exc)
            return {}

    def put_many(self, kind: Hashable, readings: Sequence[tuple[str, object]]) -> None:
        """Keeps `readings` ((text, reading) pairs) for the other processes; the oldest go beyond the bound."""
        if not readings:
            return
        try:
            rows = [(_key(kind, text), encode(reading)) for text, reading in readings]
            with self._lock:
                db = self._connection()
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.executemany("INSERT OR REPLACE INTO readings (key, reading) VALUES (?, ?)", rows)
                    db.execute("DELETE FROM readings WHERE rowid <= (SELECT MAX(rowid) FROM readings) - ?",
                               (self.max_readings,))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._warn(exc)

    def count(self) -> int:
        """How many readings the file holds (0 when it cannot be read)."""
        try:
            with self._lock:
                return int(self._connection().execute("SELECT COUNT(*) FROM readings").fetchone()[0])
        except (sqlite3.Error, OSError) as exc:
            self._warn(exc)
            return 0

    def clear(self) -> None:
        try:
            with self._lock:
                self._connection().execute("DELETE FROM readings")
        except (sqlite3.Error, OSError) as exc:
            self._warn(exc)

    def close(self) -> None:
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._db = None

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (the caller holds the lock)."""
        if self._db is None or self._pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # a cache: what a crash loses is read again
            db.execute("CREATE TABLE IF NOT EXISTS readings (key TEXT PRIMARY KEY, reading BLOB NOT NULL)")
            self._db, self._pid = db, os.getpid()
        return self._db

    def _warn(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("the workers' shared question readings (%s) failed, the model reads instead "
                           "(not logged again): %s", self.path, exc)


def _key(kind: Hashable, text: str) -> str:
    """One text key for (kind, text): a kind is a tuple of names and a model fingerprint."""
    parts = kind if isinstance(kind, tuple) else (kind,)
    return "\x1f".join([*map(str, parts), text])


def encode(reading: object) -> bytes:
    """A reading (an array, or a tuple of arrays such as latent terms) as bytes: a JSON header
    of each array's type and shape, then their data."""
    arrays = [reading] if isinstance(reading, np.ndarray) else list(reading) if isinstance(reading, tuple) else []
    if not arrays or not all(isinstance(array, np.ndarray) for array in arrays):
        raise ValueError("a reading is an array or a tuple of arrays")
    header = json.dumps({"tuple": not isinstance(reading, np.ndarray),
                         "arrays": [[array.dtype.str, list(array.shape)] for array in arrays]}).encode()
    return len(header).to_bytes(4, "little") + header + b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


def decode(blob: bytes) -> object:
    """:func:`encode`'s reading back, its arrays read-only (views of the blob)."""
    size = int.from_bytes(blob[:4], "little")
    header = json.loads(blob[4:4 + size])
    arrays, offset = [], 4 + size
    for dtype, shape in header["arrays"]:
        dtype = np.dtype(dtype)
        count = int(np.prod(shape)) if shape else 1
        arrays.append(np.frombuffer(blob, dtype=dtype, count=count, offset=offset).reshape(shape))
        offset += count * dtype.itemsize
    if offset != len(blob):
        raise ValueError(f"a reading of {len(blob)} bytes holds {offset}")
    return tuple(arrays) if header["tuple"] else arrays[0]

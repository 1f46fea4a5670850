"""Atomic file writes (temp file in the same folder, fsync, os.replace, fsync the folder)
and the lock files that keep writers of one folder apart.

A crash at any point leaves either the old file or the new one, never a mix.  Used for
articles, index manifests and vector files alike.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO
from typing import Callable
from typing import Iterator


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_files(folder: Path) -> None:
    """fsync every file directly in folder, then the folder itself.

    For files written by code that never syncs (Whoosh's segments and table of contents):
    after this, a power loss cannot take back what was committed.  Syncing a file whose
    pages are already on disk costs one system call, so the untouched segments are cheap."""
    folder = Path(folder)
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                fd = os.open(entry.path, os.O_RDONLY)
            except FileNotFoundError:  # a segment merged away meanwhile
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(folder)


TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")  # what atomic_writer leaves when killed mid-write


def stale_temp_files(folder: Path, recursive: bool = False) -> list[Path]:
    """Temp files of interrupted atomic writes (``.<name>.<random>.tmp``) in folder.

    Only call this while holding the lock that the writers of folder take: a temp file
    is stale only if nobody can be writing it."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    candidates = folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")
    return sorted(p for p in candidates if TEMP_NAME.match(p.name) and p.is_file())


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o644, durable: bool = True) -> Iterator[BinaryIO]:
    """A file to write path's new content into; it replaces path only when the block ends
    without an error (fsync, rename, fsync of the folder), so readers see the old or the
    new content, never half.  For large content written in pieces (a vector snapshot).

    `mode` is set on the temporary file before the rename (mkstemp creates it 0600).
    `durable` False skips both fsyncs: still atomic for readers, but a power loss may take
    the write back.  Only for copies of something kept durably elsewhere, or when the
    caller syncs many files at once afterwards (:func:`fsync_files`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644, durable: bool = True) -> None:
    """Replace path with data so that readers see the old or the new content, never half."""
    with atomic_writer(path, mode, durable) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def atomic_write_json(path: Path, value) -> None:
    atomic_write_text(path, json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True))


_LOCK_POLL = 0.05  # seconds between tries while waiting with a timeout


@contextlib.contextmanager
def file_lock(
    path: Path,
    timeout: float | None = None,
    *,
    thread_lock: threading.Lock | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[bool]:
    """Hold an exclusive lock on the lock file `path` (created, with its folder) for the block.

    Yields True when held, False when it could not be had in time: the caller decides
    whether that means skip the work or raise its own error.  `timeout` None waits as long
    as it takes, 0 tries once, more tries every 50 ms until that many seconds have passed.

    The lock is an flock(2) on a descriptor opened here and closed at the end of the block:
    it keeps apart processes and threads alike (each call opens its own file description),
    and the kernel drops it if the process dies.  Do not fork inside the block: the child's
    copy of the descriptor would keep the lock after this block ends, until the child exits.
    `thread_lock`, if given, is taken first with the same patience, for callers whose own
    threads must also queue in order without each holding a descriptor open.  `on_wait` is
    called once when the lock is taken by someone else and this call is about to wait (to
    say in the log why a start seems to hang).
    """
    path = Path(path)
    deadline = None if timeout is None else time.monotonic() + timeout
    if thread_lock is not None:
        if timeout is None:
            got = thread_lock.acquire()
        elif timeout <= 0:
            got = thread_lock.acquire(blocking=False)
        else:
            got = thread_lock.acquire(timeout=timeout)
        if not got:
            yield False
            return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            yield _flock(fd, deadline, on_wait)
        finally:
            os.close(fd)  # closing the last descriptor of the file description releases the lock
    finally:
        if thread_lock is not None:
            thread_lock.release()


def _flock(fd: int, deadline: float | None, on_wait: Callable[[], None] | None) -> bool:
    """Lock fd exclusively, waiting until deadline (None: for ever).  True if locked."""
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if deadline is not None and time.monotonic() >= deadline:
            return False
        if not waited:
            waited = True
            if on_wait is not None:
                on_wait()
        if deadline is None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # sleeps in the kernel until the holder lets go
            return True
        time.sleep(_LOCK_POLL)

"""Atomic file writes: temp file in the same folder, fsync, os.replace, fsync the folder.

A crash at any point leaves either the old file or the new one, never a mix.  Used for
articles, index manifests and vector files alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO
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
def atomic_writer(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A file to write path's new content into; it replaces path only when the block ends
    without an error (fsync, rename, fsync of the folder), so readers see the old or the
    new content, never half.  For large content written in pieces (a vector snapshot).

    `mode` is set on the temporary file before the rename (mkstemp creates it 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
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
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace path with data so that readers see the old or the new content, never half."""
    with atomic_writer(path, mode) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def atomic_write_json(path: Path, value) -> None:
    atomic_write_text(path, json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True))

"""One fix to Whoosh 2.7.4 (frozen upstream), applied when kb.search.keyword is imported.

Whoosh maps a segment's compound file into memory and opens each file inside it (posting
lists, stored fields, columns) as a ``BufferFile``, whose constructor does
``BytesIO(memoryview)``: a full copy of that file.  Every searcher opened copied about
140 MB of a 10k-article index into private memory (8 server threads: over a gigabyte),
although Whoosh then reads most of it through ``get()`` straight from the map.  Here the
file object over the map reads only what is asked for, without the copy.
"""

from __future__ import annotations

import io

from whoosh.filedb import structfile


class MappedReader(io.RawIOBase):
    """A read-only, seekable file over a memoryview: reads copy only the bytes they return."""

    def __init__(self, buffer: memoryview):
        super().__init__()
        self._buffer = buffer
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = len(self._buffer) + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if position < 0:
            raise ValueError("negative seek position")
        self._position = position
        return position

    def read(self, size: int | None = -1) -> bytes:
        start = min(self._position, len(self._buffer))
        end = len(self._buffer) if size is None or size < 0 else min(len(self._buffer), start + size)
        self._position = end
        return bytes(self._buffer[start:end])

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = min(self._position, len(self._buffer))
        limit = len(self._buffer) if size is None or size < 0 else min(len(self._buffer), start + size)
        end = start
        while end < limit and self._buffer[end] != 10:
            end += 1
        end = min(limit, end + 1)
        self._position = end
        return bytes(self._buffer[start:end])


def _buffer_file_init(self, buf, name=None, onclose=None):
    self._buf = buf
    self._name = name
    self.file = MappedReader(memoryview(buf))
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def apply() -> None:
    structfile.BufferFile.__init__ = _buffer_file_init

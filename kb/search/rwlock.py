"""A readers-writer lock: many searches at once, or one change alone.

faiss searches are thread-safe but changes (add, remove) are not, and a change must not
run while any search is reading the index.  Writers go first: once one waits, new readers
queue behind it, so a steady stream of searches cannot starve an index update.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator


class ReadWriteLock:
    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            while self._writer:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            while self._writer:
                self._condition.wait()
            self._writer = True  # from here on, new readers wait
            while self._readers:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._writer = False
                self._condition.notify_all()

"""A few Whoosh searchers per index state, lent to one request at a time.

A Whoosh searcher is not thread-safe, and each one maps the index's segment files into
memory: with one searcher per web-server thread, 8 threads at 10k articles held 8 maps of
a 200 MB segment (3.8 GB of resident memory, most of it the same file pages counted 8
times).  A pool of about one searcher per core serves as many requests at once as the
cores can run anyway: the rest wait for a free one (a searcher is held for a whole search,
embedding included, so waiting requests do not add to the cores' work either).
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable
from typing import Iterator

from kb.search.keyword_searcher import KeywordSearcher


def default_size() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(2, cores)


class SearcherPool:
    def __init__(self, open_searcher: Callable[[], KeywordSearcher], size: int | None = None):
        self._open = open_searcher
        self.size = size or default_size()
        self._free: list[KeywordSearcher] = []
        self._opened = 0
        self._closed = False
        self._condition = threading.Condition()

    @contextlib.contextmanager
    def searcher(self) -> Iterator[KeywordSearcher]:
        """A searcher for this thread alone until the block ends (waits while all are lent out)."""
        with self._condition:
            while not self._free and self._opened >= self.size:
                self._condition.wait()
            searcher = self._free.pop() if self._free else None
            if searcher is None:
                self._opened += 1
        if searcher is None:
            try:
                searcher = self._open()
            except BaseException:
                with self._condition:
                    self._opened -= 1
                    self._condition.notify()
                raise
        try:
            yield searcher
        finally:
            with self._condition:
                if self._closed:
                    searcher.close()
                    self._opened -= 1  # a thread still waiting here opens its own
                else:
                    self._free.append(searcher)
                self._condition.notify()

    @property
    def opened(self) -> int:
        return self._opened

    def close(self) -> None:
        """Close the idle searchers now and the lent ones when they come back (the index state changed)."""
        with self._condition:
            self._closed = True
            for searcher in self._free:
                searcher.close()
            self._free.clear()

"""Rate limits for log messages that repeat once per request under load.

Waitress logs "Task queue depth is N" on the ``waitress.queue`` logger every time a
request has to wait for a free thread.  Under load that is every request, and the real
warnings drown.  :class:`RateLimitedFilter` lets one such record through per interval and
counts the ones it holds back; the next record it lets through says how many there were,
so nothing is hidden, only summarized.  ``kb serve`` installs it with
:func:`limit_queue_warnings`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

QUEUE_LOGGER = "waitress.queue"
QUEUE_WARNING_INTERVAL = 60.0


class RateLimitedFilter(logging.Filter):
    """Pass at most one record per ``interval`` seconds; the next one passed reports how many
    were suppressed in between (and the deepest queue seen, for waitress's message)."""

    def __init__(self, interval: float = QUEUE_WARNING_INTERVAL, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._next_allowed = float("-inf")
        self._suppressed = 0
        self._peak: int | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        with self._lock:
            depth = _queue_depth(record)
            if now < self._next_allowed:
                self._suppressed += 1
                if depth is not None:
                    self._peak = depth if self._peak is None else max(self._peak, depth)
                return False
            suppressed, peak = self._suppressed, self._peak
            self._suppressed, self._peak = 0, None
            self._next_allowed = now + self.interval
        if suppressed:
            record.msg = f"{record.getMessage()} ({suppressed} more like it in the last {self.interval:g} s not logged"
            record.msg += f"; deepest queue {peak})" if peak is not None else ")"
            record.args = None
        return True


def _queue_depth(record: logging.LogRecord) -> int | None:
    """The N of waitress's "Task queue depth is N" (its only argument), else None."""
    if isinstance(record.args, tuple) and len(record.args) == 1 and isinstance(record.args[0], int):
        return record.args[0]
    return None


def limit_queue_warnings(interval: float = QUEUE_WARNING_INTERVAL) -> RateLimitedFilter:
    """Install (once) the one-per-``interval`` limit on waitress's queue-depth warning."""
    logger = logging.getLogger(QUEUE_LOGGER)
    for existing in logger.filters:
        if isinstance(existing, RateLimitedFilter):
            return existing
    limiter = RateLimitedFilter(interval)
    logger.addFilter(limiter)
    return limiter

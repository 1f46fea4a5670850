"""Per-minute rate limits counted where every server process and machine sees the same count.

A limit kept in a process's memory is one limit per process: with 4 workers a visitor gets
4 times the searches, and on 3 machines behind nginx 12 times.  So the counters live in
shared storage: the database by default (:class:`DatabaseRateLimits`, nothing to install),
Redis when ``redis_url`` is set (:class:`RedisRateLimits`, for a site whose database should
not take a write per search).  Both count fixed one-minute windows, as Flask-Limiter does
by default: at most ``limit`` hits per key in a window, and a refused client is told to
come back when the window ends (``Retry-After``, at most 60 s).  A burst at a window's
edge can pass twice the limit within a few seconds; that is the price of one counter per key
instead of one row per request, and for abuse limits (a visitor's searches, an API key's
calls) it is the usual one.

``hit(key, limit)`` is the whole interface: 0 when the hit is allowed (and counted), else
the seconds to wait (the hit is not counted).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable
from typing import Protocol

from kb.background import BackgroundLoop
from kb.errors import KbError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# How often a serving process deletes the finished windows, in the background (any process
# may: a DELETE of old rows is idempotent).
SWEEP_EVERY_SECONDS = 60.0


class RateLimits(Protocol):
    def hit(self, key: str, limit: int) -> int:
        """Count one hit for ``key``: 0 if within ``limit`` per minute, else the seconds until it may."""


def _seconds_left(now: float, window_start: int) -> int:
    return max(1, math.ceil(window_start + WINDOW_SECONDS - now))


class DatabaseRateLimits:
    """Counters in the ``rate_limit_hits`` table (migration 0009): one row per key and minute.

    Each hit is one atomic statement, ``INSERT ... ON CONFLICT DO UPDATE ... WHERE hits <
    limit RETURNING hits``: a row comes back when the hit was counted, none when the window
    is full, so two processes can never both take the last place.  The SQL is the portable
    subset (SQLite 3.35+ and PostgreSQL).  Windows are aligned to the clock (minute ``n``
    starts at ``60 * n`` Unix seconds), so every machine with a synchronized clock counts in
    the same row.  Finished windows are deleted by :meth:`sweep`, which a serving process
    calls in the background (:class:`Sweeper`, started by kb.serving.start_node), never
    inside a request: a hit is one statement.
    """

    def __init__(self, database, clock: Callable[[], float] = time.time):
        self.database = database
        self._clock = clock

    def hit(self, key: str, limit: int) -> int:
        now = self._clock()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        db = self.database.connection()
        counted = db.execute(
            "INSERT INTO rate_limit_hits (scope, window_start, hits) VALUES (?, ?, 1) "
            "ON CONFLICT (scope, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 "
            "WHERE rate_limit_hits.hits < ? RETURNING hits",
            (key, window_start, max(1, int(limit))),
        ).fetchone()
        return 0 if counted is not None else _seconds_left(now, window_start)

    def sweep(self) -> int:
        """Delete the counters of finished windows; how many rows went."""
        window_start = int(self._clock() // WINDOW_SECONDS) * WINDOW_SECONDS
        return self.database.connection().execute("DELETE FROM rate_limit_hits WHERE window_start < ?",
                                                  (window_start,)).rowcount


class Sweeper:
    """A serving process's background thread that calls ``limits.sweep()`` every
    ``every`` seconds (the database counters; Redis expires its own keys).  A failed sweep
    (the database restarting) is logged and the next one tries again."""

    def __init__(self, limits: DatabaseRateLimits, every: float = SWEEP_EVERY_SECONDS):
        self.limits = limits
        self.every = every
        # The next sweep retries a failed one; counting goes on meanwhile.
        self._loop = BackgroundLoop("kb-rate-limit-sweep", limits.sweep, every,
                                    failure="rate limits: deleting finished windows failed", log=logger)

    def start(self) -> Sweeper:
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)


def start_sweeper(limits: RateLimits) -> Sweeper | None:
    """The background sweep for database counters (kb.serving.start_node); None for Redis."""
    if isinstance(limits, DatabaseRateLimits):
        return Sweeper(limits).start()
    return None


class RedisRateLimits:
    """Counters in Redis through the ``limits`` library (Flask-Limiter's engine): its
    ``FixedWindowRateLimiter`` over ``RedisStorage``, an atomic INCR with an expiry per key.

    ``limits`` rather than Flask-Limiter itself: kb's limits are not one decorator per view
    but per-key checks inside views (an API key's own limit, a panel link, a visitor's
    searches) that raise kb's own 429 (JSON under /api/, a page in the visitor's language
    elsewhere, with ``Retry-After``), which Flask-Limiter would replace.  The database side is
    kb's own (:class:`DatabaseRateLimits`), not a ``limits`` Storage over it: one statement
    per hit needs no more, and the default install stays without the dependency.

    If Redis cannot be reached the hit is allowed and a warning logged (at most once a
    minute): a rate limit guards the site, it must not be what takes it down.
    """

    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        try:
            from limits import RateLimitItemPerMinute
            from limits.storage import RedisStorage
            from limits.strategies import FixedWindowRateLimiter
        except ImportError as exc:
            raise KbError("missing_dependency", "Setting 'redis_url' needs the redis extra: "
                                                "pip install 'kb[redis]' (the limits and redis packages)",
                          field="redis_url") from exc
        self._item = RateLimitItemPerMinute
        self.storage = RedisStorage(url, key_prefix="kb-rate", wrap_exceptions=True)
        self._limiter = FixedWindowRateLimiter(self.storage)
        self._clock = clock
        self._next_warning = 0.0

    def hit(self, key: str, limit: int) -> int:
        from limits.errors import StorageError

        item = self._item(max(1, int(limit)))
        try:
            if self._limiter.hit(item, key):
                return 0
            reset_at = self._limiter.get_window_stats(item, key).reset_time
        except StorageError as exc:
            now = self._clock()
            if now >= self._next_warning:
                self._next_warning = now + WINDOW_SECONDS
                logger.warning("rate limits not counted: Redis unreachable (%s)", exc)
            return 0
        return max(1, math.ceil(reset_at - self._clock()))


def from_settings(settings, database) -> RateLimits:
    """Redis when ``redis_url`` is set, else the database."""
    if settings.redis_url:
        return RedisRateLimits(settings.redis_url)
    return DatabaseRateLimits(database)

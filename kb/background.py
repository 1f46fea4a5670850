"""One background thread's life: do a round of work, wait, again, until stopped.

kb's serving process runs a few of these beside the requests: the contact courier
(:mod:`kb.contact_delivery`), the change-log applier (:mod:`kb.replication.applier`), the
rate-limit sweep (:mod:`kb.store.rate_limits`), the article watcher (:mod:`kb.watcher`) and
the vector worker (:mod:`kb.backfill`).  What each does in a round is its own; the thread
around it is this module's, so every one of them starts, wakes and stops the same way:

* a named daemon thread (``threading.enumerate()`` and a stack dump say which is which; a
  daemon never keeps a stopping server alive);
* :meth:`BackgroundLoop.start` is idempotent and safe from many request threads at once, and
  starts the loop again after :meth:`~BackgroundLoop.stop` or after its thread ended;
* a round that raises is logged with its traceback, on the owner's logger, and the loop goes
  on after the interval: a database restarting must not end the work for the process's life;
* :meth:`~BackgroundLoop.wake` ends the wait at once; a wake during a round is not lost (the
  event is cleared *before* each round, so the next wait returns at once);
* :meth:`~BackgroundLoop.stop` asks the loop to end, wakes it and joins it with a timeout (a
  round in progress is not interrupted: rounds that take long ask :attr:`stopping`).

Ground floor: the standard library only, so every wing may use it.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

logger = logging.getLogger(__name__)


class LoopFinished(Exception):
    """Raised by a round to end its loop for good (its work has nothing left to act on,
    such as an index folder that was removed); the loop ends without logging an error."""


class BackgroundLoop:
    """A named daemon thread that runs `run_round`, then waits `interval` seconds or until
    woken, until stopped.

    What `run_round` returns is ignored (an owner's method that returns a count can be passed
    as it is).  `next_wait`, when given, is asked after each round for the seconds until the
    next one (a round that knows when its next work is due, such as a retry); it is part of
    the round: if it raises, the failure is logged like the round's.  After a failed round
    the wait is `interval`.  `failure` is the log message of a failed round ("contact
    delivery round failed"), logged on `log`, the owner's logger, so the record carries the
    owner's name.  `wait`, when given, replaces the wait between rounds (the applier waits
    on a PostgreSQL notification); it gets the seconds and should end on :meth:`wake` too,
    by waiting through :meth:`sleep` when it has nothing better.
    """

    def __init__(self, name: str, run_round: Callable[[], object], interval: float, *, failure: str,
                 log: logging.Logger = logger, next_wait: Callable[[], float] | None = None,
                 wait: Callable[[float], None] | None = None):
        self.name = name
        self.interval = interval
        self._run_round = run_round
        self._next_wait = next_wait
        self._failure = failure
        self._log = log
        self._wait = wait or self.sleep
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def running(self) -> bool:
        """The thread is alive and has not been asked to stop."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    @property
    def stopping(self) -> bool:
        """:meth:`stop` was called (and :meth:`start` not since): a long round should end early."""
        return self._stop.is_set()

    def start(self) -> None:
        """Start the thread unless it is alive (again after a stop or after it ended)."""
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """End the current wait now (or run one more round after the one in progress)."""
        self._wake.set()

    def sleep(self, seconds: float) -> None:
        """Wait up to `seconds`, less if woken or stopped (the wait between rounds)."""
        self._wake.wait(seconds)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end, wake it and wait up to `timeout` seconds for its thread."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():  # a round may stop its own loop
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._run_round()
                seconds = self._next_wait() if self._next_wait is not None else self.interval
            except LoopFinished:
                return
            except Exception:  # noqa: BLE001 - the loop outlives a failed round; the next one retries
                self._log.exception("%s; retrying in %.0f s", self._failure, self.interval)
                seconds = self.interval
            if self._stop.is_set():
                return
            self._wait(seconds)

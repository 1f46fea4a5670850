"""kb.log_limits: waitress's per-request "Task queue depth" warning, once a minute with a count."""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.request

import pytest

from kb.log_limits import QUEUE_LOGGER
from kb.log_limits import RateLimitedFilter
from kb.log_limits import limit_queue_warnings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def queue_logger():
    """waitress's queue logger with a fresh filter list (restored afterwards)."""
    logger = logging.getLogger(QUEUE_LOGGER)
    saved = list(logger.filters)
    logger.filters.clear()
    yield logger
    logger.filters[:] = saved


def test_one_warning_a_minute_and_the_next_one_counts_the_rest(queue_logger, caplog):
    """GIVEN 500 queue warnings in a minute (one per request) WHEN logged through the filter
    THEN one is written; the first one after the minute says 499 were held back and the deepest queue."""
    clock = FakeClock()
    queue_logger.addFilter(RateLimitedFilter(60.0, clock=clock))
    with caplog.at_level(logging.WARNING, logger=QUEUE_LOGGER):
        for depth in range(1, 501):
            queue_logger.warning("Task queue depth is %d", depth)
            clock.now += 0.1
        assert [r.getMessage() for r in caplog.records] == ["Task queue depth is 1"]
        clock.now += 20.0  # a minute after the first one
        queue_logger.warning("Task queue depth is %d", 3)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[1] == "Task queue depth is 3 (499 more like it in the last 60 s not logged; deepest queue 500)"


def test_a_quiet_minute_logs_the_next_warning_plainly(queue_logger, caplog):
    clock = FakeClock()
    queue_logger.addFilter(RateLimitedFilter(60.0, clock=clock))
    with caplog.at_level(logging.WARNING, logger=QUEUE_LOGGER):
        queue_logger.warning("Task queue depth is %d", 2)
        clock.now += 61
        queue_logger.warning("Task queue depth is %d", 4)
    assert [r.getMessage() for r in caplog.records] == ["Task queue depth is 2", "Task queue depth is 4"]


def test_other_loggers_are_untouched_and_installing_twice_adds_one_filter(queue_logger, caplog):
    first = limit_queue_warnings()
    assert limit_queue_warnings() is first and queue_logger.filters == [first]
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            logging.getLogger("waitress").warning("a real warning")
            queue_logger.warning("Task queue depth is %d", 1)
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("a real warning") == 3 and messages.count("Task queue depth is 1") == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_real_waitress_under_load_logs_the_queue_warning_once(queue_logger, caplog):
    """GIVEN waitress with one thread and slow requests, and the filter `kb serve` installs
    WHEN 12 requests arrive at once (bounded, loopback only) THEN the queue warning is logged once."""
    from waitress.server import create_server  # what waitress.serve(), and so kb serve, runs

    def slow_app(environ, start_response):
        time.sleep(0.05)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    limit_queue_warnings()
    port = _free_port()
    server = create_server(slow_app, host="127.0.0.1", port=port, threads=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.WARNING, logger=QUEUE_LOGGER):
            def fetch():
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()

            clients = [threading.Thread(target=fetch) for _ in range(12)]
            for client in clients:
                client.start()
            for client in clients:
                client.join(timeout=60)
    finally:
        server.close()
    queue_warnings = [r for r in caplog.records if r.name == QUEUE_LOGGER]
    assert len(queue_warnings) == 1, [r.getMessage() for r in queue_warnings]

"""Shared per-minute rate limits (kb.store.rate_limits): one count for every process and machine.

The database side runs on SQLite and PostgreSQL (the ``database_url`` fixture); the Redis side
on a real redis-server started on a free port (Debian's ``redis-server``, installed by
scripts/setup.sh --test).  "Two app instances" are two apps over one database (two Database
objects, as two processes have), over HTTP, and two real processes hitting one SQLite file."""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from browser_support import serving
from conftest import make_settings
from kb.errors import KbError
from kb.store.db import Database
from kb.store.rate_limits import DatabaseRateLimits
from kb.store.rate_limits import RedisRateLimits
from kb.store.rate_limits import Sweeper
from kb.store.rate_limits import start_sweeper

SEARCH = "/search?q=password"


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on a free port, for this module; not installed is a failure (setup.sh --test installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: scripts/setup.sh --test installs Debian's redis-server", pytrace=False)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"redis-server did not start on port {port}", pytrace=False)
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def counted(limits, key: str, limit: int, times: int) -> list[int]:
    return [limits.hit(key, limit) for _ in range(times)]


# --- the database ---------------------------------------------------------------------------------

def test_database_limit_counts_per_key_and_minute(database_url):
    """GIVEN a limit of 3 a minute WHEN a key is hit 4 times THEN the 4th waits until the minute ends;
    another key is not affected; the next minute starts again; finished minutes are swept."""
    clock = Clock(1_800_000_010.0)  # 10 s into a minute
    limits = DatabaseRateLimits(Database(database_url), clock=clock)
    assert counted(limits, "search:a", 3, 4) == [0, 0, 0, 50]
    assert limits.hit("search:b", 3) == 0
    clock.now += 49.5
    assert limits.hit("search:a", 3) == 1  # half a second left: told 1, never 0
    clock.now += 1
    assert counted(limits, "search:a", 3, 3) == [0, 0, 0]
    clock.now += 61  # two minutes on: the finished minutes' rows go at the next sweep, not in a hit
    limits.hit("search:c", 3)
    assert len(windows(limits)) == 3
    assert limits.sweep() == 3  # search:a and :b of the first minute, search:a of the second
    assert windows(limits) == {int(clock.now // 60) * 60}
    assert limits.sweep() == 0


def windows(limits) -> set[int]:
    return {row[0] for row in limits.database.connection().execute("SELECT window_start FROM rate_limit_hits")}


def test_the_background_sweeper_deletes_finished_windows(database_url):
    """GIVEN counters of a finished minute WHEN a serving process's sweeper runs (every 0.05 s here,
    every minute in kb serve) THEN they are deleted in the background while the current one stays;
    Redis needs no sweeper (its keys expire)."""
    clock = Clock(1_800_000_010.0)
    limits = DatabaseRateLimits(Database(database_url), clock=clock)
    limits.hit("search:old", 3)
    clock.now += 60
    limits.hit("search:new", 3)
    sweeper = Sweeper(limits, every=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while len(windows(limits)) > 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sweeper.stop()
    assert windows(limits) == {int(clock.now // 60) * 60}
    started = start_sweeper(limits)
    assert isinstance(started, Sweeper)
    started.stop()
    assert start_sweeper(RedisRateLimits("redis://127.0.0.1:1/0")) is None


def test_a_serving_process_starts_the_sweeper(session_kb, tmp_path):
    """GIVEN an app WHEN kb serve's start (kb.serving.start_node) runs THEN the sweeper of its
    database counters runs in the background beside the watcher and the applier; without
    threads (the reloader's parent) it does not."""
    import gc

    from kb.knowledge import KnowledgeBase
    from kb.serving import start_node
    from kb.web import create_app

    base = tmp_path / "site"
    shutil.copytree(session_kb.articles_dir, base / "articles")
    shutil.copytree(session_kb.store.root, base / "index")
    knowledge = KnowledgeBase.from_settings(make_settings(base), embedder=session_kb.embedder)
    app = create_app(knowledge.settings, knowledge=knowledge, test_config={"TESTING": True})
    try:
        start_node(app, threads=False)
        assert "kb_rate_limit_sweeper" not in app.extensions
        start_node(app)
        sweeper = app.extensions["kb_rate_limit_sweeper"]
        assert isinstance(sweeper, Sweeper) and sweeper.limits is app.extensions["kb_rate_limits"]
        assert "kb-rate-limit-sweep" in [thread.name for thread in threading.enumerate()]
    finally:
        gc.unfreeze()
        for name in ("kb_rate_limit_sweeper", "kb_watcher", "kb_replication"):
            if app.extensions.get(name) is not None:
                app.extensions[name].stop()
        knowledge.close()
        app.extensions["kb_db"].close()


def test_a_refused_hit_is_not_counted(database_url):
    clock = Clock(1_800_000_000.0)
    limits = DatabaseRateLimits(Database(database_url), clock=clock)
    counted(limits, "key:7", 2, 10)
    row = limits.database.connection().execute("SELECT hits FROM rate_limit_hits WHERE scope = ?", ("key:7",)).fetchone()
    assert row["hits"] == 2


def test_two_instances_on_one_database_share_a_limit(database_url):
    """GIVEN two processes' worth of database objects on one database WHEN 20 threads in each hit one
    key with a limit of 25 THEN exactly 25 hits pass in all: the upsert is atomic."""
    first, second = Database(database_url), Database(database_url)
    limits = [DatabaseRateLimits(first), DatabaseRateLimits(second)]
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def hammer(limiter):
        start.wait()
        for _ in range(3):
            wait = limiter.hit("search:shared", 25)
            with lock:
                results.append(wait)

    threads = [threading.Thread(target=hammer, args=(limits[n % 2],)) for n in range(40)]
    if int(time.time()) % 60 > 55:  # do not straddle a minute boundary
        time.sleep(61 - int(time.time()) % 60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(0) == 25 and len(results) == 120
    assert all(1 <= wait <= 60 for wait in results if wait)


def _hit_many(path: str, count: int, queue) -> None:
    limits = DatabaseRateLimits(Database(Path(path)))
    queue.put([limits.hit("api:shared", 30) for _ in range(count)])


def test_two_processes_share_a_limit_in_one_sqlite_file(tmp_path):
    path = tmp_path / "data" / "kb.sqlite3"
    Database(path)  # migrated once, before the processes start
    if int(time.time()) % 60 > 50:
        time.sleep(61 - int(time.time()) % 60)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_hit_many, args=(str(path), 25, queue)) for _ in range(2)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    allowed = sum(wait == 0 for batch in results for wait in batch)
    assert allowed == 30


def shared_apps(session_kb, tmp_path, **overrides):
    """Two apps over one data folder (one database), as two worker processes or two machines are."""
    from kb.web import create_app

    settings = make_settings(tmp_path, site_rate_limit=3, **overrides).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir)
    return [create_app(settings, knowledge=session_kb, test_config={"TESTING": True}) for _ in range(2)]


def searches_on_two_apps(apps) -> tuple[list[int], requests.Response]:
    with serving(apps[0]) as first, serving(apps[1]) as second:
        statuses = [requests.get(base + SEARCH, timeout=30).status_code for base in (first, second, first, second)]
        limited = requests.get(second + SEARCH, timeout=30)
    return statuses, limited


def test_two_apps_on_one_database_share_the_search_limit_over_http(session_kb, tmp_path):
    """GIVEN two app instances over one database, a limit of 3 searches a minute
    WHEN one client searches alternately on each THEN the 4th search is refused, whichever serves it."""
    if int(time.time()) % 60 > 50:
        time.sleep(61 - int(time.time()) % 60)
    statuses, limited = searches_on_two_apps(shared_apps(session_kb, tmp_path))
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "طلبات كثيرة" in limited.text


def test_api_key_limit_is_shared_json_429(session_kb, tmp_path):
    """The API's per-key limit holds across two app instances and keeps its JSON error shape."""
    from kb.store import apikeys

    apps = shared_apps(session_kb, tmp_path, api_rate_limit=2)
    _key, secret = apikeys.create_key(apps[0].extensions["kb_db"].connection(), "shared")
    headers = {"Authorization": f"Bearer {secret}"}
    with serving(apps[0]) as first, serving(apps[1]) as second:
        statuses = [requests.get(base + "/api/v1/search?q=password", headers=headers, timeout=30).status_code
                    for base in (first, second)]
        limited = requests.get(first + "/api/v1/search?q=password", headers=headers, timeout=30)
    assert statuses == [200, 200]
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


# --- Redis ----------------------------------------------------------------------------------------

def test_redis_limit_counts_and_tells_when(redis_url):
    limits = RedisRateLimits(redis_url)
    key = f"search:{time.monotonic_ns()}"
    results = counted(limits, key, 3, 4)
    assert results[:3] == [0, 0, 0] and 1 <= results[3] <= 60
    assert limits.hit(key + "-other", 3) == 0


def test_redis_instances_share_a_limit(redis_url):
    """Two limiters (two processes' connections) on one Redis, 20 threads each: exactly the limit passes."""
    limits = [RedisRateLimits(redis_url), RedisRateLimits(redis_url)]
    key = f"key:{time.monotonic_ns()}"
    results: list[int] = []
    lock = threading.Lock()

    def hammer(limiter):
        for _ in range(3):
            wait = limiter.hit(key, 25)
            with lock:
                results.append(wait)

    threads = [threading.Thread(target=hammer, args=(limits[n % 2],)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(0) == 25


def test_two_apps_with_redis_url_share_the_search_limit_over_http(session_kb, tmp_path, redis_url):
    """GIVEN redis_url set: the apps count in Redis, not in their database."""
    apps = shared_apps(session_kb, tmp_path / "one", redis_url=redis_url)
    other = shared_apps(session_kb, tmp_path / "two", redis_url=redis_url)[0]  # another database, same Redis
    redis_apps = [apps[0], other]
    assert isinstance(apps[0].extensions["kb_rate_limits"], RedisRateLimits)
    statuses, limited = searches_on_two_apps(redis_apps)
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    rows = apps[0].extensions["kb_db"].connection().execute("SELECT count(*) FROM rate_limit_hits").fetchone()
    assert rows[0] == 0


def test_redis_down_lets_requests_through_and_warns(caplog):
    limits = RedisRateLimits(f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="kb.store.rate_limits"):
        assert [limits.hit("search:x", 1) for _ in range(3)] == [0, 0, 0]
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once a request


def test_redis_url_must_be_a_redis_url(tmp_path):
    with pytest.raises(KbError) as caught:
        make_settings(tmp_path, redis_url="localhost:6379")
    assert caught.value.field == "redis_url"

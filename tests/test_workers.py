"""``kb serve --workers N`` and the race-free first start, with real processes.

Several processes started together on empty folders must agree on one secret key, apply
each migration once, build the first index once (the others wait for it), and serve; a
worker killed is replaced, SIGTERM stops them all cleanly, and a worker that cannot start
stops the server instead of being restarted for ever.  The processes start from a copy of
the session's embedding cache, so the first build embeds nothing (seconds, not minutes).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sqlite3
from pathlib import Path

import pytest

from cluster_harness import Browser
from cluster_harness import KbNode
from cluster_harness import clean_environment
from cluster_harness import create_staff_user
from cluster_harness import http_json
from cluster_harness import wait_for
from conftest import make_settings
from kb.config import ensure_secret_key
from kb.store.db import Database
from kb.store.migrate import migration_files
from kb.store.secrets import app_secret_key
from kb.store.secrets import shared_secret

ARTICLES = 3  # a small collection: the first build is about the processes, not the embedding


def empty_site(session_kb, base: Path) -> Path:
    """A few articles, no index, no data; the embedding cache only, so nothing is embedded again."""
    (base / "articles").mkdir(parents=True)
    for name in ("_categories.yml", "_synonyms.yml"):
        if (session_kb.articles_dir / name).exists():
            shutil.copy(session_kb.articles_dir / name, base / "articles" / name)
    for path in sorted(session_kb.articles_dir.rglob("*.md"))[:ARTICLES]:
        target = base / "articles" / path.relative_to(session_kb.articles_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    shutil.copytree(session_kb.store.root / "embeddings", base / "index" / "embeddings")
    return base


def node_env(**values: str) -> dict[str, str]:
    return clean_environment(KB_SITE_RATE_LIMIT="1000000", **values)


@pytest.fixture
def started():
    """Nodes started by the test, stopped (or killed) at the end."""
    nodes: list[KbNode] = []
    yield nodes
    for node in nodes:
        if node.stop(timeout=20) is None:
            node.kill()


def generations(base: Path) -> list[str]:
    return sorted(p.name for p in (base / "index").glob("gen-*"))


# -- the workers ------------------------------------------------------------------------------


def test_workers_start_together_on_empty_folders_and_share_the_port(session_kb, tmp_path, started):
    """GIVEN an articles folder with no index and no data folder
    WHEN kb serve --workers 2 starts
    THEN one worker builds the index while the other waits, both serve the one port, and the
    folder holds one secret key and one index generation."""
    node = KbNode("workers", empty_site(session_kb, tmp_path / "site"), node_env(), workers=2)
    started.append(node.start())
    node.wait_ready()
    wait_for(lambda: len(node.worker_pids()) == 2 and node.log().count("kb is serving") == 2, 60, "both workers serving")
    assert len(generations(node.base)) == 1
    assert (node.base / "data" / "secret_key").read_text().strip()
    assert not list((node.base / "data").glob(".secret_key.*"))
    assert "Traceback" not in node.log()
    for _ in range(10):
        assert http_json(node.url + "/api/v1/search?q=%D8%B4%D9%83%D9%88%D9%89")[0] == 200


def test_a_killed_worker_is_replaced_and_sigterm_stops_them_all(session_kb, tmp_path, started):
    """GIVEN kb serve --workers 2 serving
    WHEN a worker is killed with -9
    THEN a new one takes its place and requests keep being answered; SIGTERM to the server
    then stops every worker and the server exits 0."""
    node = KbNode("workers", empty_site(session_kb, tmp_path / "site"), node_env(), workers=2)
    started.append(node.start())
    node.wait_ready()
    wait_for(lambda: node.log().count("kb is serving") == 2, 60, "both workers serving")
    first = node.worker_pids()
    os.kill(first[0], signal.SIGKILL)
    replaced = wait_for(lambda: (pids := node.worker_pids()) and len(pids) == 2 and first[0] not in pids and pids,
                        30, "a new worker in place of the killed one")
    try:
        wait_for(lambda: node.log().count("kb is serving") == 3, 60, "the new worker serving")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; the server's log:\n{node.log()[-3000:]}") from None
    assert "exited (signal 9)" in node.log()
    for _ in range(10):
        assert http_json(node.url + "/api/v1/health")[0] == 200
    assert node.stop(timeout=40) == 0
    for pid in replaced:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_the_workers_share_what_the_model_read_of_a_question(session_kb, tmp_path, started):
    """GIVEN kb serve --workers 2 serving
    WHEN one question is searched again and again (requests land on either worker)
    THEN the worker that did not read it takes the model's reading from the workers' shared
    file (kb.search.shared_readings: health says shared_hits), and the file goes with the server."""
    import urllib.parse
    from concurrent.futures import ThreadPoolExecutor

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    node = KbNode("workers", empty_site(session_kb, tmp_path / "site"), node_env(TMPDIR=str(scratch)), workers=2)
    started.append(node.start())
    node.wait_ready()
    wait_for(lambda: node.log().count("kb is serving") == 2, 60, "both workers serving")
    files = list(scratch.glob("kb-question-readings-*/readings.sqlite3"))
    assert len(files) == 1
    url = node.url + "/api/v1/search?q=" + urllib.parse.quote("العميل زعلان مرة وش اسوي")
    assert http_json(url)[0] == 200
    with sqlite3.connect(files[0]) as db:  # the model's three readings: two vectors (as typed, MSA), the terms
        assert db.execute("SELECT COUNT(*) FROM readings").fetchone()[0] == 3

    def other_worker() -> dict | None:
        with ThreadPoolExecutor(4) as pool:  # at once, so that both workers take some
            assert set(pool.map(lambda _: http_json(url)[0], range(8))) == {200}
        memos = [node.health()["question_memo"] for _ in range(6)]
        assert all(memo["shared"] for memo in memos)
        return next((memo for memo in memos if memo["shared_hits"]), None)

    memo = wait_for(other_worker, 60, "a worker answering from the other's reading")
    # It took the three readings from the file (two requests at once may both look before it
    # keeps them): the model never read the question there.
    assert memo["shared_hits"] >= 3 and memo["misses"] == 0
    assert node.stop(timeout=40) == 0
    assert not list(scratch.glob("kb-question-readings-*"))


def test_a_worker_that_cannot_start_stops_the_server(session_kb, tmp_path, started):
    """GIVEN an index folder that is a file (no worker can build an index there)
    WHEN kb serve --workers 2 starts
    THEN it exits 1 with the error, instead of restarting workers for ever."""
    base = empty_site(session_kb, tmp_path / "site")
    shutil.rmtree(base / "index")
    (base / "index").write_text("not a folder")
    node = KbNode("broken", base, node_env(), workers=2)
    started.append(node.start())
    assert node.process.wait(timeout=90) == 1
    assert "could not start" in node.log()


# -- several servers started together on the same folders -------------------------------------------


def test_servers_started_together_agree_on_key_migrations_and_index(session_kb, tmp_path, started):
    """GIVEN three kb serve processes (three systemd units) on the same empty folders
    WHEN they start at the same moment
    THEN all serve; there is one secret key (a staff session made by one is valid on the
    others), each migration was applied once, and the index was built once."""
    base = empty_site(session_kb, tmp_path / "site")
    nodes = [KbNode(f"server{n}", base, node_env()) for n in range(3)]
    for node in nodes:
        started.append(node)
        node.start()
    for node in nodes:
        node.wait_ready()
    assert len(generations(base)) == 1
    database = Database(base / "data" / "kb.sqlite3", migrate=False)
    applied = [row["name"] for row in database.connection().execute("SELECT name FROM schema_migrations")]
    database.close()
    assert sorted(applied) == [path.stem for path in migration_files()]
    create_staff_user(nodes[0], "editor@example.com", "a long editor password 1")
    browser = Browser(nodes[0].url)
    assert browser.sign_in("editor@example.com", "a long editor password 1").status == 302
    for node in nodes[1:]:
        assert browser.on(node.url).get("/staff/account").status == 200


def _key_in_child(data_dir: str, queue) -> None:
    settings = make_settings(Path(data_dir).parent, data_dir=Path(data_dir), secret_key="")
    queue.put(ensure_secret_key(settings))


def test_secret_key_made_by_many_processes_at_once_is_one_key(tmp_path):
    """GIVEN 8 processes asking for the secret key of an empty data_dir at the same moment
    THEN they all get the same key, and no temp file is left."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_key_in_child, args=(str(tmp_path / "data"), queue)) for _ in range(8)]
    for process in processes:
        process.start()
    keys = [queue.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / "data" / "secret_key").read_text().strip() == keys[0]
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]


def _migrate_in_child(url: str, queue) -> None:
    try:
        database = Database(url)
        queue.put(("ok", database.migrated))
        database.close()
    except Exception as exc:  # reported to the test, which fails with it
        queue.put(("error", repr(exc)))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_run_once_when_processes_start_together(backend, tmp_path, request):
    """GIVEN an empty database and 6 processes opening it at the same moment
    THEN each migration is applied by exactly one of them and none fails."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}" if backend == "sqlite" else \
        request.getfixturevalue("pg_server").new_database()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_migrate_in_child, args=(url, queue)) for _ in range(6)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [outcome for outcome, _ in results if outcome != "ok"] == [], results
    applied = [name for _, names in results for name in names]
    assert sorted(applied) == [path.stem for path in migration_files()]


# -- the shared secret on PostgreSQL -----------------------------------------------------------


def test_the_shared_secret_is_made_once_per_database(database_url, tmp_path):
    """GIVEN two processes' Database objects on one database
    THEN they get the same shared secret, and on PostgreSQL the app's key is that one (every
    node signs cookies alike) while on SQLite it is the data_dir file (every process on this machine)."""
    first, second = Database(database_url), Database(database_url)
    try:
        key = shared_secret(first.connection(), "secret_key")
        assert shared_secret(second.connection(), "secret_key") == key
        settings = make_settings(tmp_path, secret_key="")
        expected = key if first.dialect == "postgresql" else ensure_secret_key(settings)
        assert app_secret_key(settings, second) == expected
        assert app_secret_key(make_settings(tmp_path, secret_key="set"), second) == "set"
    finally:
        first.close()
        second.close()


def test_the_port_in_use_is_one_clear_error(session_kb, tmp_path):
    """GIVEN a port already taken WHEN kb serve --workers 2 starts on it THEN exit 1 with what is wrong."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        node = KbNode("taken", empty_site(session_kb, tmp_path / "site"), node_env(), workers=2, port=port)
        node.start()
        assert node.process.wait(timeout=60) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in node.log()
    assert "Traceback" not in node.log()


def test_sigterm_lets_the_requests_in_progress_finish(session_kb, tmp_path, started):
    """GIVEN kb serve --workers 2 answering six long searches
    WHEN SIGTERM arrives while they run
    THEN every one of them gets its answer (200), then the server exits 0 and the port is closed."""
    import http.client
    import threading
    import urllib.parse

    node = KbNode("draining", empty_site(session_kb, tmp_path / "site"), node_env(), workers=2)
    started.append(node.start())
    node.wait_ready()
    wait_for(lambda: node.log().count("kb is serving") == 2, 60, "both workers serving")
    query = urllib.parse.quote(" ".join(["شكوى العميل الغاضب والرد المناسب عليها"] * 12))
    statuses: list[int] = []
    sent = threading.Barrier(7)

    def search() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
        connection.request("GET", f"/api/v1/search?q={query}")
        sent.wait()
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)

    threads = [threading.Thread(target=search) for _ in range(6)]
    for thread in threads:
        thread.start()
    sent.wait()  # every request is on the wire
    node.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    assert node.process.wait(timeout=40) == 0
    assert http_json(node.url + "/api/v1/health", timeout=2)[0] == 0  # nothing listens any more

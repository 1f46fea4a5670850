"""``kb restore`` refuses to run beside a ``kb serve`` of the same index folder
(kb.serving_marker): the server would write on into the SQLite file and folders the restore
moves aside, and what it acknowledged would be lost."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from cluster_harness import KbNode
from cluster_harness import clean_environment
from cluster_harness import kb_command
from cluster_harness import prepare_node_folders
from conftest import make_settings
from kb.backup import backup
from kb.backup import restore
from kb.errors import KbError
from kb.serving_marker import ServingMarker
from kb.serving_marker import without_a_server
from kb.store.db import Database


def test_a_serving_process_keeps_commands_out_until_it_stops(tmp_path):
    """GIVEN a process serving an index folder (its marker held)
    WHEN a command that must not run beside a server starts
    THEN it is refused at once with code server_running, naming the folder; once the server
    has stopped it runs; another folder is not affected."""
    index = tmp_path / "index"
    server = ServingMarker(index)
    with pytest.raises(KbError) as refused:
        with without_a_server(index, "kb restore"):
            pytest.fail("ran beside a server")
    assert refused.value.code == "server_running" and str(index) in refused.value.message
    with without_a_server(tmp_path / "another-index", "kb restore"):
        pass
    second = ServingMarker(index)  # several workers serve one folder
    server.close()
    with pytest.raises(KbError):
        with without_a_server(index, "kb restore"):
            pass
    second.close()
    with without_a_server(index, "kb restore"):
        pass


def test_a_server_starting_during_the_command_waits_for_it(tmp_path):
    """GIVEN a command holding the folder (a restore running)
    WHEN a server starts on it
    THEN its start waits until the command is done."""
    index = tmp_path / "index"
    started = threading.Event()

    def serve() -> None:
        ServingMarker(index)
        started.set()

    with without_a_server(index, "kb restore"):
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        time.sleep(0.5)
        assert not started.is_set()
    assert started.wait(10)


@pytest.mark.slow
def test_kb_restore_refuses_while_kb_serve_runs_on_sqlite(session_kb, tmp_path):
    """GIVEN ``kb serve`` on a SQLite install and a backup of it
    WHEN ``kb restore --force`` runs while it serves
    THEN it is refused (exit status not 0, the message says to stop kb serve), nothing is
    moved aside, and the server goes on answering; after the server stops the restore runs."""
    base = tmp_path / "site"
    prepare_node_folders(base, session_kb.articles_dir, session_kb.store.root)
    settings = make_settings(base, database_url=f"sqlite:///{base / 'data' / 'kb.sqlite3'}", secret_key="")
    Database.from_settings(settings).close()
    backup(settings, tmp_path / "site.tar.gz")
    node = KbNode("site", base, clean_environment(KB_SITE_RATE_LIMIT="1000000"))
    command = kb_command("--articles-dir", str(base / "articles"), "--index-dir", str(base / "index"),
                         "--data-dir", str(base / "data"), "restore", "--force", str(tmp_path / "site.tar.gz"))
    try:
        node.start().wait_ready()
        result = subprocess.run(command, capture_output=True, text=True, cwd=base, env=node.env, timeout=600)
        assert result.returncode != 0
        assert "kb serve is running on" in result.stderr + result.stdout
        assert not [p.name for p in base.iterdir() if ".before-restore-" in p.name]
        assert node.ready()
    finally:
        node.stop()
    report = restore(settings, tmp_path / "site.tar.gz", force=True)
    assert report.articles == len(list(session_kb.articles_dir.rglob("*.md")))

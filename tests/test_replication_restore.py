"""kb.replication: a node notices that the cluster's database went back in time.

A database restored to an older state (``kb restore --force`` of an older backup, pg_dump,
point-in-time recovery) takes the change log back to an older head, and its sequence with
it: the next publishes get the seqs a node past that head believes it applied.  Each test
takes a real backup (kb.backup), publishes after it, then restores it with kb restore's own
code from a folder of its own (the nodes' folders are left as they were), on SQLite and on
PostgreSQL, with the nodes of tests/test_replication.py.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from cluster_harness import Browser
from cluster_harness import KbNode
from cluster_harness import clean_environment
from cluster_harness import create_staff_user
from cluster_harness import kb_command
from cluster_harness import prepare_node_folders
from cluster_harness import search_slugs
from cluster_harness import wait_for
from conftest import make_settings
from test_replication import SLUG
from test_replication import WORD
from test_replication import Node
from test_replication import cluster  # noqa: F401 - fixture
from test_replication import eventually
from test_replication import new_form

from kb.backup import backup
from kb.backup import restore
from kb.content import revisions
from kb.publishing import Publisher
from kb.replication.startup import Replicator
from kb.replication.position import POSITION_FILE
from kb.store import changes

LOST_WORD = "قرفيتية"  # the article published between the backup and the restore
AFTER_WORD = "هيلانية"  # articles published after the restore


class RestoreDrill:
    """A backup of the cluster's database, and its restore with ``kb restore --force``."""

    def __init__(self, base: Path, database_url: str, session_kb):
        self.base = base
        self.database_url = database_url
        self.session_kb = session_kb

    def backup(self, node: Node) -> Path:
        archive = self.base / "cluster.tar.gz"
        backup(make_settings(node.base, database_url=self.database_url), archive,
               index_root=node.knowledge.store.root)
        return archive

    def restore(self, archive: Path, nodes: list[Node]) -> None:
        """The database as `archive` holds it.  PostgreSQL: while the nodes run.  SQLite: kb
        restore moves the file aside (kb serve is stopped for it, on the one machine), so the
        nodes' processes open the restored file afterwards, their appliers started again."""
        target = self.base / "restorer"
        (target / "index").mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.session_kb.store.root / "embeddings", target / "index" / "embeddings", dirs_exist_ok=True)
        sqlite = self.database_url.startswith("sqlite")
        running = [node for node in nodes if node.replicator._loop.running]
        if sqlite:
            for node in running:
                node.replicator.stop()
        restore(make_settings(target, database_url=self.database_url), archive, force=True)
        if sqlite:
            for node in nodes:
                node.database.close()
                node.publisher = Publisher(node.knowledge, node.database.connection())
            for node in running:
                node.replicator.start()


@pytest.fixture
def drill(tmp_path, database_url, session_kb, monkeypatch) -> RestoreDrill:
    monkeypatch.chdir(tmp_path)  # no kb.toml of the developer's in the archive
    return RestoreDrill(tmp_path, database_url, session_kb)


def live(node: Node, name: str) -> bool:
    return bool(changes.live_named(node.database.connection(), name))


def caught_up(node: Node) -> dict | None:
    status = node.replicator.status()
    head = changes.head(node.database.connection())
    return status if status["changes_behind"] == 0 and status["applied_seq"] == head else None


def node_row(node: Node) -> int:
    row = node.database.connection().execute("SELECT applied_seq FROM cluster_nodes WHERE node_id = ?",
                                             (node.replicator.node_id,)).fetchone()
    return int(row["applied_seq"])


def test_a_running_node_applies_what_is_published_after_the_restore(cluster, drill, caplog):
    """GIVEN two running nodes, a backup, then an article both nodes applied (their position P)
    WHEN the database is restored from the backup (the log's head below P) and the other node
    publishes an article (numbered at or below P again)
    THEN this node applies it (file, search, catalog), says why in the log, and reports itself
    caught up only once it is; the article published between the backup and the restore, still
    in the nodes' folders, is published again: nothing is lost."""
    one, two = cluster("one"), cluster("two")
    archive = drill.backup(one)
    backed_up = changes.head(one.database.connection())
    one.publisher.create(new_form(slug="after-backup", body=f"كلمة: {LOST_WORD}."), "publish")
    eventually(lambda: "after-backup" in two.knowledge.catalog.articles, what="the article before the restore")
    position = eventually(lambda: caught_up(two), what="node two at the head")["applied_seq"]
    assert backed_up < position
    caplog.set_level(logging.WARNING, logger="kb.replication")
    drill.restore(archive, [one, two])  # the log back at `backed_up`: the next publish is numbered `position`

    one.publisher.create(new_form(slug="after-restore", body=f"كلمة: {AFTER_WORD}."), "publish")
    eventually(lambda: "after-restore" in two.finds(AFTER_WORD), what="the publish after the restore")
    assert (two.base / "articles" / "orders" / "after-restore.md").read_bytes() == \
        (one.base / "articles" / "orders" / "after-restore.md").read_bytes()
    eventually(lambda: live(one, "after-backup.md"), what="the article from between backup and restore, again")
    assert "after-backup" in two.finds(LOST_WORD) and "after-backup" in one.finds(LOST_WORD)
    status = eventually(lambda: caught_up(two), what="node two caught up")
    assert status["head_seq"] == status["applied_seq"] == two.replicator.position
    assert node_row(two) == two.replicator.position
    assert any("restored to an older state" in r.getMessage() for r in caplog.records)


def test_a_node_whose_position_the_log_has_passed_again(cluster, drill):
    """GIVEN a node at position P whose applier is stopped, and the database restored to a
    backup from before P
    WHEN the cluster publishes more changes than it lost, so the head passes P again
    THEN the node's status does not claim it is caught up, and once its applier runs it has
    every article published after the restore (seqs at or below P included)."""
    one, two = cluster("one"), cluster("two")
    archive = drill.backup(one)
    one.publisher.create(new_form(slug="after-backup", body=f"كلمة: {LOST_WORD}."), "publish")
    position = eventually(lambda: caught_up(two), what="node two at the head")["applied_seq"]
    two.replicator.stop()
    drill.restore(archive, [one, two])
    conn = one.database.connection()
    slugs = []
    while changes.head(conn) <= position + 1:
        slugs.append(f"after-restore-{len(slugs)}")
        one.publisher.create(new_form(slug=slugs[-1], title=f"مقال بعد الاستعادة {len(slugs)}",
                                      body=f"كلمة: {AFTER_WORD}."), "publish")
    assert changes.head(conn) > position
    status = two.replicator.status()
    assert status["changes_behind"] > 0 and status["applied_seq"] < status["head_seq"]

    two.replicator.start()
    eventually(lambda: set(slugs) <= set(two.finds(AFTER_WORD)), what="every publish after the restore")
    for slug in slugs:
        assert slug in two.knowledge.catalog.articles
    eventually(lambda: caught_up(two), what="node two caught up")
    assert node_row(two) == two.replicator.position


def test_a_node_restarted_after_the_restore_with_its_folder(cluster, drill):
    """GIVEN a node stopped after a backup and two later changes (a new article, an edit), with
    its folder and its position file as they were
    WHEN the database is restored from the backup, another node publishes, and the node starts
    THEN it has the new publish before it serves; the article only the folders still had is
    published again, and the edit the restored database never held is kept as a conflict
    revision, the database's version in the file: nothing is lost."""
    one, two = cluster("one"), cluster("two")
    archive = drill.backup(one)
    one.publisher.create(new_form(slug="after-backup", body=f"كلمة: {LOST_WORD}."), "publish")
    opened = one.publisher.open(SLUG)
    edited = replace(opened.form, summary="ملخص كتب بعد النسخة الاحتياطية.")
    one.publisher.save(SLUG, edited, "publish", opened.token)
    path = two.knowledge.catalog.articles[SLUG].path
    eventually(lambda: "ملخص كتب بعد" in path.read_text(encoding="utf-8"), what="the edit on node two")
    position = eventually(lambda: caught_up(two), what="node two at the head")["applied_seq"]
    two.stop()
    drill.restore(archive, [one])
    one.publisher.create(new_form(slug="after-restore", body=f"كلمة: {AFTER_WORD}."), "publish")
    assert changes.live_named(one.database.connection(), "after-restore.md")
    assert changes.current(one.database.connection(), "orders/after-restore.md").seq <= position  # numbered again

    again = cluster("two")  # its folder and its position file
    assert "after-restore" in again.finds(AFTER_WORD)  # before it serves: prepare brought it in
    eventually(lambda: live(again, "after-backup.md"), what="the article from between backup and restore, again")
    assert "after-backup" in again.finds(LOST_WORD)
    assert "ملخص كتب بعد" not in path.read_text(encoding="utf-8")
    eventually(lambda: "after-backup" in one.finds(LOST_WORD), what="the article again on node one")
    eventually(lambda: caught_up(again) and caught_up(one), what="both nodes caught up")
    history = revisions.history(again.database.connection(), SLUG, limit=10)
    kept = [r for r in history if r.state == "conflict" and "ملخص كتب بعد" in r.text]
    assert len(kept) == 1  # once, though both nodes' folders had that version
    assert node_row(again) == again.replicator.position


def test_a_failed_reconcile_after_a_restore_is_retried(cluster, drill, monkeypatch):
    """GIVEN a node whose database was restored to before its position
    WHEN its folder's reconcile fails (a full disk, the database gone again)
    THEN its position stays where it was, so the next poll finds the restore again and
    reconciles: the article only its folder has is published again."""
    one, two = cluster("one"), cluster("two")
    archive = drill.backup(one)
    one.publisher.create(new_form(slug="after-backup", body=f"كلمة: {LOST_WORD}."), "publish")
    position = eventually(lambda: caught_up(two), what="node two at the head")["applied_seq"]
    one.replicator.stop()
    two.replicator.stop()
    drill.restore(archive, [one, two])
    real_sync = Replicator._sync_folder
    calls = []

    def failing_once(self, conn, start=None):
        calls.append(start)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real_sync(self, conn, start)

    monkeypatch.setattr(Replicator, "_sync_folder", failing_once)
    with pytest.raises(OSError):
        two.replicator.apply_pending()
    assert two.replicator.position == position and not live(two, "after-backup.md")
    two.replicator.apply_pending()
    assert calls == [0, 0] and live(two, "after-backup.md")
    assert caught_up(two) and "after-backup" in two.finds(LOST_WORD)


def test_a_running_node_waits_while_a_restore_has_emptied_the_tables(cluster):
    """GIVEN a node at position P WHEN the collection's tables are empty (a restore has created
    them and not loaded its rows yet) THEN its applier publishes nothing (its folder is not
    copied into a half-filled database) and keeps its position until the rows are there."""
    one, two = cluster("one"), cluster("two")
    one.replicator.stop()
    two.replicator.stop()
    position = two.replicator.position
    conn = two.database.connection()
    with conn.transaction():
        for table in ("collection_changes", "collection_files", "collection_state"):
            conn.execute(f"DELETE FROM {table}")
    assert two.replicator.apply_pending() == 0
    assert changes.head(conn) == 0 and not changes.live_checksums(conn)
    assert two.replicator.position == position > 0


def test_a_position_file_without_the_change_still_loads(cluster, caplog):
    """GIVEN a node whose position file was written before kb kept the change at the position
    WHEN it starts THEN it starts from that position (nothing applied again) and the file then
    holds the change; AND an old file whose position is past the log's head (the database went
    back in time) makes the node start over and correct its row in cluster_nodes."""
    one, two = cluster("one"), cluster("two")
    two.stop()
    position_file = two.base / "index" / POSITION_FILE
    position = two.replicator.position
    assert json.loads(position_file.read_text(encoding="utf-8"))["applied_seq"] == position
    position_file.write_text(json.dumps({"node_id": two.replicator.node_id, "applied_seq": position}), encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="kb.replication")
    again = cluster("two")
    assert again.replicator.position == position
    assert not any("restored to an older state" in r.getMessage() for r in caplog.records)
    saved = json.loads(position_file.read_text(encoding="utf-8"))
    assert saved["applied_seq"] == position and saved["change"]["seq"] == position
    again.stop()

    conn = one.database.connection()
    head = changes.head(conn)
    position_file.write_text(json.dumps({"node_id": again.replicator.node_id, "applied_seq": head + 50}),
                             encoding="utf-8")
    changes.set_node_position(conn, again.replicator.node_id, head + 50, None)  # what it said before
    one.publisher.create(new_form(), "publish")
    restarted = cluster("two")
    assert "free-shipping" in restarted.finds(WORD)
    assert restarted.replicator.position == changes.head(conn)
    assert node_row(restarted) == restarted.replicator.position
    assert any("restored to an older state" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_kb_restore_in_a_cluster_of_kb_serve_processes(session_kb, pg_server, pg_template, tmp_path):
    """GIVEN two ``kb serve`` nodes on PostgreSQL, a ``kb backup``, then an article published
    WHEN node 1 is stopped, ``kb restore --force`` the backup, and started again (node 2 running
    all along, as after a pg_dump restore or a point-in-time recovery)
    THEN an article published on node 1 after the restore is found on both nodes, so is the one
    published between the backup and the restore, and both health reports reach 0 behind."""
    url = pg_server.new_database(pg_template)
    nodes = []
    for number in (1, 2):
        base = tmp_path / f"node{number}"
        prepare_node_folders(base, session_kb.articles_dir, session_kb.store.root)
        nodes.append(KbNode(f"node{number}", base, clean_environment(
            KB_DATABASE_URL=url, KB_NODE_ID=f"node{number}", KB_SITE_RATE_LIMIT="1000000")))
    first = nodes[0]

    def kb(*args: str) -> None:
        folders = ("--articles-dir", str(first.base / "articles"), "--index-dir", str(first.base / "index"),
                   "--data-dir", str(first.base / "data"))
        result = subprocess.run(kb_command(*folders, *args), capture_output=True, text=True, cwd=first.base,
                                env=first.env, timeout=600)
        assert result.returncode == 0, result.stderr or result.stdout

    def everywhere(slug: str, word: str) -> bool:
        return all(slug in search_slugs(node.url, word) for node in nodes)

    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        create_staff_user(first, "editor@example.com", "a long editor password 1")
        kb("backup", str(tmp_path / "cluster.tar.gz"))
        browser = Browser(first.url)
        assert browser.sign_in("editor@example.com", "a long editor password 1").status == 302
        assert browser.publish_new("between", "مقال بين النسخة والاستعادة", f"كلمة: {LOST_WORD}.").status == 302
        wait_for(lambda: everywhere("between", LOST_WORD), 30, "the article before the restore on both nodes")
        first.stop()
        kb("restore", "--force", str(tmp_path / "cluster.tar.gz"))
        first.start().wait_ready()
        browser = Browser(first.url)
        assert browser.sign_in("editor@example.com", "a long editor password 1").status == 302
        assert browser.publish_new("after-restore", "مقال بعد الاستعادة", f"كلمة: {AFTER_WORD}.").status == 302
        wait_for(lambda: everywhere("after-restore", AFTER_WORD), 30, "the publish after the restore on both nodes")
        wait_for(lambda: everywhere("between", LOST_WORD), 30, "the article from between, published again")
        for node in nodes:
            wait_for(lambda node=node: node.health().get("replication", {}).get("changes_behind") == 0, 30,
                     f"no lag in {node.name}'s /health")
        assert "restored to an older state" in nodes[1].log()
    finally:
        for node in nodes:
            node.stop()
        pg_server.drop_database(url)

"""kb.replication and kb.store.changes: nodes with their own folders and indexes on one database.

Each "node" is what one machine runs: its own articles and index folders (copies of the
session's, or empty), its own KnowledgeBase, Database object, Publisher and Replicator
(the applier thread, polling fast here).  Every test runs on SQLite and on PostgreSQL
(``database_url``); "the other node finds it" is polled for, never slept on.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from cluster_harness import wait_for
from conftest import make_settings

from kb.cli import cli
from kb.content import revisions
from kb.content.articles import load_articles
from kb.content.editing import ArticleForm
from kb.knowledge import KnowledgeBase
from kb.publishing import Conflict
from kb.publishing import Publisher
from kb.replication.collection import collection_paths
from kb.replication.collection import export_collection
from kb.replication.startup import Replicator
from kb.store import changes
from kb.store.db import Database
from kb.watcher import ArticleWatcher
from staff_fixtures import cheap_hashing  # noqa: F401 - fixture
from staff_fixtures import editor  # noqa: F401 - fixture
from staff_fixtures import staff_app  # noqa: F401 - fixture

SLUG = "positive-language"
WORD = "زنجبيلية"  # in no test article
# How long a test waits for a change to reach the other node: generous, for a loaded CI machine.
# The 2 s target is measured by scripts/bench_cluster.py, not asserted here.
WITHIN = 30.0


@dataclass
class Node:
    base: Path
    knowledge: KnowledgeBase
    database: Database
    publisher: Publisher
    replicator: Replicator
    watcher: ArticleWatcher

    def stop(self) -> None:
        self.replicator.stop()
        self.knowledge.close()
        self.database.close()

    def finds(self, word: str) -> list[str]:
        return [hit.slug for hit in self.knowledge.search(word, mode="keyword")]


@pytest.fixture
def cluster(session_kb, tmp_path, database_url):
    """start(name, empty=False) → a running node on the test's database; all stopped at the end."""
    started: list[Node] = []

    def start(name: str, empty: bool = False, copy_of: Path | None = None) -> Node:
        base = tmp_path / name
        if not (base / "articles").exists():
            if empty:
                (base / "articles").mkdir(parents=True)
                # The embedding cache only, so the first build does not re-embed the test articles.
                shutil.copytree(session_kb.store.root / "embeddings", base / "index" / "embeddings")
            else:
                shutil.copytree(copy_of or session_kb.articles_dir, base / "articles")
                shutil.copytree(session_kb.store.root, base / "index")
        knowledge = KnowledgeBase.from_settings(make_settings(base), embedder=session_kb.embedder)
        database = Database(database_url)
        replicator = Replicator(knowledge, database, poll_seconds=0.05)
        replicator.prepare()
        knowledge.start()
        watcher = ArticleWatcher(knowledge, reconciled=True, replicator=replicator)
        replicator.start()
        node = Node(base, knowledge, database, Publisher(knowledge, database.connection()), replicator, watcher)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def eventually(check, timeout: float = WITHIN, what: str = ""):
    """Poll `check` until it returns something true; the value, or fail after `timeout` s."""
    try:
        return wait_for(check, timeout, what)
    except TimeoutError as exc:
        pytest.fail(str(exc))
        time.sleep(0.02)


def new_form(**overrides) -> ArticleForm:
    values = dict(title="سياسة الشحن المجاني للطلبات", slug="free-shipping", category="الطلبات والاسترداد",
                  tags="شحن", summary="متى يكون الشحن مجانيًا.", body=f"## الشروط\n\nكلمة نادرة: {WORD}.", faq=[])
    values.update(overrides)
    return ArticleForm(**values)


def test_a_publish_on_one_node_is_found_on_the_other(cluster):
    """GIVEN two nodes with their own folders on one database
    WHEN an article is published on the first
    THEN the second has its file, finds it by search and serves it from its catalog (how fast:
    scripts/bench_cluster.py)."""
    one, two = cluster("one"), cluster("two")
    published = time.monotonic()
    one.publisher.create(new_form(), "publish")
    eventually(lambda: "free-shipping" in two.finds(WORD), what="the other node finds the new article")
    print(f"\npublish-to-searchable on the other node: {time.monotonic() - published:.2f} s")
    assert "free-shipping" in two.knowledge.catalog.articles
    assert (two.base / "articles" / "orders" / "free-shipping.md").read_text(encoding="utf-8") == \
        (one.base / "articles" / "orders" / "free-shipping.md").read_text(encoding="utf-8")
    status = eventually(lambda: (s := two.replicator.status())["changes_behind"] == 0 and s)
    assert status["applied_seq"] == status["head_seq"] > 0 and status["seconds_behind"] == 0
    # PostgreSQL wakes the applier by NOTIFY; SQLite has only the poll.
    assert status["notifications"] == ("listen" if two.database.dialect == "postgresql" else "poll")


def test_seeded_once_by_the_first_node(cluster, database_url):
    """GIVEN an empty database WHEN two nodes with articles start
    THEN the collection is copied in once (one change a file), and nothing echoes back."""
    one = cluster("one")
    conn = one.database.connection()
    files = collection_paths(one.base / "articles")
    assert changes.head(conn) == len(files) and set(changes.live_checksums(conn)) == set(files)
    cluster("two")
    assert changes.head(conn) == len(files)


def test_a_node_started_later_catches_up_and_an_empty_node_bootstraps(cluster):
    """GIVEN a node that was stopped while another published, edited and deleted
    WHEN it starts again THEN its folder, index and catalog have every change before it serves;
    AND a node with an empty articles folder builds itself from the database alone."""
    one, two = cluster("one"), cluster("two")
    two.stop()
    one.publisher.create(new_form(), "publish")
    one.publisher.delete("customer-tone" if "customer-tone" in one.knowledge.catalog.articles else
                         next(s for s in one.knowledge.catalog.articles if s not in (SLUG, "free-shipping")))
    again = cluster("two")  # same folders: a restart
    assert "free-shipping" in again.finds(WORD)
    assert set(again.knowledge.catalog.articles) == set(one.knowledge.catalog.articles)
    assert again.replicator.status()["changes_behind"] == 0
    empty = cluster("three", empty=True)
    assert set(empty.knowledge.catalog.articles) == set(one.knowledge.catalog.articles)
    assert "free-shipping" in empty.finds(WORD)
    assert collection_paths(empty.base / "articles") == collection_paths(one.base / "articles")


def test_concurrent_saves_of_one_article_on_two_nodes(cluster):
    """GIVEN two editors who opened the same article on two nodes
    WHEN both save at once THEN one save wins and the other gets the conflict page,
    with its text kept as a conflict revision: nothing is lost."""
    one, two = cluster("one"), cluster("two")
    opened = [one.publisher.open(SLUG), two.publisher.open(SLUG)]
    outcomes: list[object] = [None, None]
    start = threading.Barrier(2)

    def save(i: int, node: Node) -> None:
        form = replace(opened[i].form, body=opened[i].form.body + f"\n\nتعديل المحرر {i}.")
        start.wait()
        try:
            outcomes[i] = node.publisher.save(SLUG, form, "publish", opened[i].token)
        except Conflict as conflict:
            outcomes[i] = conflict

    threads = [threading.Thread(target=save, args=(i, node)) for i, node in enumerate((one, two))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes
    loser = outcomes.index(conflicts[0])
    kept = revisions.get(one.database.connection(), conflicts[0].revision_id)
    assert kept.state == "conflict" and f"تعديل المحرر {loser}." in kept.text
    winner_text = f"تعديل المحرر {1 - loser}."
    assert winner_text in conflicts[0].theirs
    for node in (one, two):
        eventually(lambda node=node: winner_text in (node.base / "articles" / node.knowledge.catalog.articles[SLUG]
                                                     .path.relative_to(node.knowledge.articles_dir))
                   .read_text(encoding="utf-8"), what="the winning text on both nodes")


def test_a_stale_node_edits_the_latest_version(cluster):
    """GIVEN a node that has not applied a publish yet WHEN an editor opens the article there
    THEN the editor gets the database's version (and its token), not the stale file."""
    one, two = cluster("one"), cluster("two")
    two.replicator.stop()  # keep it behind
    opened = one.publisher.open(SLUG)
    one.publisher.save(SLUG, replace(opened.form, summary="ملخص جديد من العقدة الأولى."), "publish", opened.token)
    stale = two.publisher.open(SLUG)
    assert stale.form.summary == "ملخص جديد من العقدة الأولى." and stale.token == one.publisher.token(SLUG)


def test_a_file_changed_on_one_nodes_disk_reaches_the_other_without_echo(cluster):
    """GIVEN a git pull changing an article on one node's disk
    WHEN that node's watcher scans THEN it is published (a revision and a change) and the other
    node applies it; the files the applier wrote are never published back."""
    one, two = cluster("one"), cluster("two")
    path = one.knowledge.catalog.articles[SLUG].path
    path.write_text(path.read_text(encoding="utf-8").replace("\n---\n", f"\n---\n\n{WORD} من git.\n", 1), encoding="utf-8")
    assert one.watcher.check()
    conn = one.database.connection()
    assert revisions.history(conn, SLUG, limit=1)[0].note == "changed on disk"
    head = changes.head(conn)
    eventually(lambda: SLUG in two.finds(WORD), what="the other node finds the disk change")
    assert not two.watcher.check()  # the applier's write is no edit
    assert not one.watcher.check()
    assert changes.head(conn) == head


def test_delete_rename_and_unpublish_replicate(cluster):
    one, two = cluster("one"), cluster("two")
    opened = one.publisher.open(SLUG)
    one.publisher.save(SLUG, replace(opened.form, slug="positive-words"), "publish", opened.token)
    eventually(lambda: "positive-words" in two.knowledge.catalog.articles and SLUG not in two.knowledge.catalog.articles,
               what="the rename on the other node")
    assert not list((two.base / "articles").rglob(f"{SLUG}.md"))
    one.publisher.unpublish("positive-words")
    eventually(lambda: two.knowledge.catalog.articles["positive-words"].status == "draft", what="the unpublish")
    item = one.publisher.delete("positive-words")
    eventually(lambda: "positive-words" not in two.knowledge.catalog.articles, what="the delete")
    assert "positive-words" not in [h.slug for h in two.knowledge.search("positive", mode="keyword", include_drafts=True)]
    # Restored on the OTHER node: its trash copy came through the change log.
    two.publisher.restore_from_trash(item.id)
    eventually(lambda: "positive-words" in one.knowledge.catalog.articles, what="the restore on the first node")


def test_categories_synonyms_and_images_replicate(cluster):
    from kb import taxonomy

    one, two = cluster("one"), cluster("two")
    taxonomy.save_synonyms(one.publisher, f"{WORD}, تجربة\n")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    url = one.publisher.upload_image("shot.png", png)
    eventually(lambda: (two.base / "articles" / "_synonyms.yml").exists()
               and WORD in (two.base / "articles" / "_synonyms.yml").read_text(encoding="utf-8"), what="synonyms")
    eventually(lambda: (two.base / "articles" / "_media" / url.removeprefix("/media/")).exists(), what="the image")
    assert (two.base / "articles" / "_media" / url.removeprefix("/media/")).read_bytes() == png


def test_export_round_trips(cluster, tmp_path, database_url):
    """GIVEN a collection edited through the editor WHEN `kb export DIR` writes it
    THEN a fresh node started from DIR alone (its own database) has the same articles."""
    one = cluster("one")
    one.publisher.create(new_form(), "publish")
    target = tmp_path / "export"
    settings_args = ["--articles-dir", str(one.base / "articles"), "--index-dir", str(one.base / "index"),
                     "--data-dir", str(one.base / "data")]
    result = CliRunner().invoke(cli, [*settings_args, "export", str(target)],
                                env={"KB_DATABASE_URL": database_url, "KB_CLI_LANGUAGE": "en"})
    assert result.exit_code == 0, result.output
    assert "free-shipping.md" in {p.name for p in target.rglob("*.md")}
    exported = {p: (target / p).read_bytes() for p in collection_paths(target)}
    assert exported == {p: (one.base / "articles" / p).read_bytes() for p in collection_paths(one.base / "articles")
                        if not p.startswith("_trash/")}
    fresh = KnowledgeBase.from_settings(make_settings(tmp_path / "fresh", articles_dir=target), embedder=False)
    fresh.index()
    assert {s: a.checksum for s, a in fresh.catalog.articles.items()} == \
        {s: a.checksum for s, a in one.knowledge.catalog.articles.items()}
    one.publisher.delete("free-shipping")
    assert export_collection(one.base / "articles", one.database, target, prune=True) == (0, 1)
    assert "free-shipping.md" not in {p.name for p in target.rglob("*.md")}


def test_workers_sharing_one_folder_refresh_one_catalog_entry(cluster, database_url, monkeypatch):
    """GIVEN two worker processes' KnowledgeBases on one articles and index folder (one node)
    WHEN an article is published through one THEN the other serves it within 1 s (its catalog
    has it: no 404) and finds it, without re-reading the articles folder."""
    from kb import indexer as indexer_module
    from kb import knowledge as knowledge_module

    first = cluster("one")
    worker = KnowledgeBase.from_settings(first.knowledge.settings, embedder=first.knowledge.embedder)
    worker.catalog  # noqa: B018 - loaded at its start, as kb serve's warm-up does
    database = Database(database_url)
    applier = Replicator(worker, database, poll_seconds=0.05)
    assert applier.node_id == first.replicator.node_id  # one folder, one node
    reads = []
    for module in (knowledge_module, indexer_module):  # the catalog's first read; kb index's
        monkeypatch.setattr(module, "load_articles", lambda *a, **k: reads.append(a) or pytest.fail("re-read"))
    applier.start()
    try:
        first.publisher.create(new_form(), "publish")
        eventually(lambda: "free-shipping" in worker.catalog.articles, timeout=1.0, what="the other worker's catalog")
        assert "free-shipping" in [h.slug for h in worker.search(WORD, mode="keyword")]
        assert not reads
    finally:
        applier.stop()
        database.close()


def test_one_batch_of_renames_deletes_and_new_articles_leaves_the_catalog_as_the_folder(cluster):
    """GIVEN a node whose applier is stopped while another renames an article, deletes one,
    unpublishes one and publishes a new one under the renamed article's old slug
    WHEN it applies them all in one batch (the catalog's path map built once, swapped in once)
    THEN its catalog holds what a fresh read of its folder holds, and search agrees."""
    one, two = cluster("one"), cluster("two")
    two.replicator.stop()
    opened = one.publisher.open(SLUG)
    one.publisher.save(SLUG, replace(opened.form, slug="positive-words"), "publish", opened.token)
    one.publisher.delete("handling-angry-customers")
    one.publisher.unpublish("time-and-stress-management")
    one.publisher.create(new_form(slug=SLUG), "publish")  # the freed slug, at a new path
    before = two.knowledge.catalog.articles
    assert two.replicator.apply_pending() >= 4
    catalog = two.knowledge.catalog.articles
    assert catalog is not before  # swapped, not changed under readers
    folder = load_articles(two.base / "articles").articles
    assert {slug: a.path for slug, a in catalog.items()} == {slug: a.path for slug, a in folder.items()}
    assert {slug: a.checksum for slug, a in catalog.items()} == {slug: a.checksum for slug, a in folder.items()}
    assert "handling-angry-customers" not in catalog and catalog["time-and-stress-management"].status == "draft"
    assert catalog[SLUG].path != catalog["positive-words"].path and catalog[SLUG].path.exists()
    assert two.finds(WORD) == [SLUG]


def test_health_reports_the_lag(cluster):
    """GIVEN a node whose applier is stopped while another publishes
    WHEN its /api/v1/health is read THEN it says how many changes and seconds it is behind;
    once it applies them, 0 and 0."""
    from kb.web import create_app

    one, two = cluster("one"), cluster("two")
    two.replicator.stop()
    app = create_app(two.knowledge.settings, knowledge=two.knowledge, test_config={"TESTING": True})
    app.extensions["kb_replication"] = two.replicator
    one.publisher.create(new_form(), "publish")
    behind = app.test_client().get("/api/v1/health").get_json()["replication"]
    assert behind["changes_behind"] >= 1 and behind["head_seq"] > behind["applied_seq"]
    assert behind["node_id"] == two.replicator.node_id and behind["notifications"] == "poll"
    two.replicator.apply_pending()
    caught_up = app.test_client().get("/api/v1/health").get_json()["replication"]
    assert caught_up["changes_behind"] == 0 and caught_up["seconds_behind"] == 0


def test_a_slug_taken_on_another_node_is_taken_here(cluster):
    """GIVEN an article created on one node and not applied on the other yet
    WHEN the other node creates an article with the same slug THEN it is refused (the slug field)."""
    from kb.content.editing import ValidationFailed

    one, two = cluster("one"), cluster("two")
    two.replicator.stop()
    one.publisher.create(new_form(), "publish")
    with pytest.raises(ValidationFailed) as refused:
        two.publisher.create(new_form(category="التواصل", body="نص آخر."), "publish")
    assert "slug" in refused.value.errors


def test_edits_made_on_a_stopped_nodes_disk(cluster):
    """GIVEN a stopped node WHEN its disk is edited (a git pull) THEN it publishes the edit when it
    starts; AND when the cluster changed the same article meanwhile, the cluster's version wins
    on both nodes and the local text is kept as a conflict revision: nothing is lost."""
    one, two = cluster("one"), cluster("two")
    two.stop()
    articles = sorted(s for s, a in one.knowledge.catalog.articles.items() if s != SLUG and a.is_public)
    quiet, contested = articles[0], articles[1]
    quiet_path = two.knowledge.catalog.articles[quiet].path
    quiet_path.write_text(quiet_path.read_text(encoding="utf-8") + f"\n{WORD} أثناء التوقف.\n", encoding="utf-8")
    contested_path = two.knowledge.catalog.articles[contested].path
    contested_path.write_text(contested_path.read_text(encoding="utf-8") + "\nنسخة القرص المحلية.\n", encoding="utf-8")
    opened = one.publisher.open(contested)
    one.publisher.save(contested, replace(opened.form, summary="نسخة العنقود."), "publish", opened.token)

    again = cluster("two")
    eventually(lambda: quiet in one.finds(WORD), what="the edit made while stopped, on the other node")
    assert "نسخة العنقود." in contested_path.read_text(encoding="utf-8")
    history = revisions.history(one.database.connection(), contested, limit=5)
    assert any(r.state == "conflict" and "نسخة القرص المحلية." in r.text for r in history)
    assert again.replicator.status()["changes_behind"] == 0 or eventually(
        lambda: again.replicator.status()["changes_behind"] == 0)


def test_a_running_applier_reports_its_lag_from_its_last_poll(cluster, database_url, monkeypatch):
    """GIVEN a node whose applier thread has caught up
    WHEN its lag is asked for (every /api/v1/health and staff landing page) THEN the answer
    comes from the applier's last poll, with the numbers the change log gives, and no query;
    once its applier is stopped, the change log is asked again and shows what it missed."""
    one, two = cluster("one"), cluster("two")
    two.replicator.stop()
    database = Database(database_url)
    applier = Replicator(two.knowledge, database, poll_seconds=5.0)  # its last poll stays fresh for 15 s
    one.publisher.create(new_form(), "publish")
    applier.start()
    asked: list[str] = []
    real_head, real_oldest = changes.head, changes.oldest_after
    monkeypatch.setattr(changes, "head", lambda conn: asked.append("head") or real_head(conn))
    monkeypatch.setattr(changes, "oldest_after", lambda conn, seq: asked.append("oldest") or real_oldest(conn, seq))
    try:
        # Caught up, and its poll after the last batch done (until then the change log is asked).
        status = eventually(lambda: not asked.clear() and (s := applier.status())["changes_behind"] == 0
                            and not asked and s, what="the applier caught up")
        assert status["applied_seq"] == status["head_seq"] == real_head(database.connection())
        assert status["seconds_behind"] == 0
        assert status["running"] is True
    finally:
        applier.stop()
    one.publisher.unpublish("free-shipping")
    status = applier.status()
    assert asked and status["changes_behind"] >= 1 and status["running"] is False
    database.close()


def test_the_staff_landing_page_says_when_this_server_is_behind(staff_app, editor):
    """GIVEN a server whose applier has a change 10 s old or older to apply
    WHEN an editor opens the articles list THEN the page says the server is behind."""
    knowledge, database = staff_app.extensions["kb"], staff_app.extensions["kb_db"]
    replicator = Replicator(knowledge, database)  # not started: it falls behind
    staff_app.extensions["kb_replication"] = replicator
    behind = "هذا الخادم متأخر"  # the staff pages speak Arabic by default
    assert behind not in editor.get("/staff/articles").get_data(as_text=True)
    conn = database.connection()
    with conn.transaction():
        seq = changes.record(conn, "orders/made-elsewhere.md", b"---\ntitle: x\n---\n", "another-node")
        conn.execute("UPDATE collection_changes SET created_at = ? WHERE seq = ?", ("2026-01-01T00:00:00Z", seq))
    page = editor.get("/staff/articles").get_data(as_text=True)
    assert behind in page and "الخوادم الأخرى (1 " in page
    replicator.apply_pending()
    assert behind not in editor.get("/staff/articles").get_data(as_text=True)


def test_an_empty_node_started_first_fills_when_the_node_with_articles_seeds(cluster):
    """GIVEN a new node with an empty folder started before any node with articles
    WHEN the node with the articles starts THEN its seed reaches the empty node (files, index, catalog)."""
    empty = cluster("empty", empty=True)
    assert not empty.knowledge.catalog.articles
    one = cluster("one")
    eventually(lambda: set(empty.knowledge.catalog.articles) == set(one.knowledge.catalog.articles), timeout=10,
               what="the seed applied on the empty node")
    assert SLUG in [h.slug for h in empty.knowledge.search("لغة إيجابية", mode="keyword")]

"""``kb backup`` / ``kb restore`` (kb.backup) on SQLite and PostgreSQL, and across them.

Each test site is a copy of the session's articles and index on a fresh database; restore
targets start with the session's embedding cache, so the rebuild embeds nothing again.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import make_settings
from staff_fixtures import cheap_hashing  # noqa: F401 - a fixture
import kb.backup as kb_backup
from kb.backup import backup
from kb.backup import restore
from kb.backup_archive import read_archive
from kb.cli import cli
from kb.config import ensure_secret_key
from kb import taxonomy
from kb.content.categories import CategoryText
from kb.content.editing import ArticleForm
from kb.errors import KbError
from kb.knowledge import KnowledgeBase
from kb.publishing import Publisher
from kb.replication.startup import Replicator
from kb.store import changes
from kb.store import users
from kb.store.db import Database
from kb.store.secrets import app_secret_key

WORD = "زنجبيلية"  # in no test article
ENGLISH_NAME = "Customer service basics"  # given to the first category
PASSWORD = "a long editor password 1"


pytestmark = pytest.mark.usefixtures("cheap_hashing")


def make_site(session_kb, base: Path, database_url: str, *, with_index: bool = True):
    base.mkdir(parents=True, exist_ok=True)
    shutil.copytree(session_kb.articles_dir, base / "articles")
    if with_index:
        shutil.copytree(session_kb.store.root, base / "index")
    else:
        shutil.copytree(session_kb.store.root / "embeddings", base / "index" / "embeddings")
    return make_settings(base, database_url=database_url, secret_key="")


def empty_target(session_kb, base: Path, database_url: str):
    base.mkdir(parents=True, exist_ok=True)
    shutil.copytree(session_kb.store.root / "embeddings", base / "index" / "embeddings")
    return make_settings(base, database_url=database_url, secret_key="")


def new_form(slug: str, word: str = WORD) -> ArticleForm:
    return ArticleForm(title=f"مقال النسخ الاحتياطي {slug}", slug=slug, category="الطلبات والاسترداد", tags="نسخ",
                       summary="ملخص قصير.", body=f"## قسم\n\nكلمة نادرة: {word}.", faq=[])


def populate(session_kb, settings) -> tuple[str, str]:
    """A staff account, a published article (file, revision, audit), a category's English
    name given in the staff editor, and the secret key."""
    database = Database.from_settings(settings)
    knowledge = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    try:
        user = users.create_user(database.connection(), "editor@example.com", PASSWORD, "editor")
        publisher = Publisher(knowledge, database.connection())
        publisher.create(new_form("backed-up"), "publish", user)
        rows = taxonomy.read_categories(settings.articles_dir)
        rows[0].translations["en"] = CategoryText(ENGLISH_NAME, "")
        taxonomy.save_categories(publisher, rows, user)
        key = app_secret_key(settings, database)
    finally:
        knowledge.close()
        database.close()
    return user.email, key


def restored_state(session_kb, settings) -> dict:
    database = Database.from_settings(settings)
    knowledge = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    try:
        conn = database.connection()
        return {
            "user": users.authenticate(conn, "editor@example.com", PASSWORD, "test").email,
            "revisions": [row["slug"] for row in conn.execute("SELECT slug FROM revisions ORDER BY id")],
            "found": [hit.slug for hit in knowledge.search(WORD, mode="keyword")],
            "key": app_secret_key(settings, database),
            "file": (settings.articles_dir / "orders" / "backed-up.md").exists()
            or any(settings.articles_dir.rglob("backed-up.md")),
            "english_name": min(knowledge.catalog.categories.values(), key=lambda c: c.order).name_in("en"),
        }
    finally:
        knowledge.close()
        database.close()


@pytest.fixture
def other_backend(request, tmp_path):
    """A fresh database URL on the backend `database_url` is not (for the moves between them)."""

    def make(current: str) -> str:
        if current.startswith("postgresql"):
            return f"sqlite:///{tmp_path / 'moved' / 'data' / 'kb.sqlite3'}"
        return request.getfixturevalue("pg_url")

    return make


def test_backup_and_restore_round_trip(session_kb, tmp_path, database_url, monkeypatch):
    """GIVEN a site with a staff account, a published article, kb.toml and its secret key
    WHEN it is backed up and restored into an empty install on the same backend
    THEN the account signs in, the revisions, the article and the key are back, and the
    rebuilt index finds the article."""
    monkeypatch.chdir(tmp_path)
    Path("kb.toml").write_text('site_name = "مركز الاختبار"\n', encoding="utf-8")
    source = make_site(session_kb, tmp_path / "source", database_url)
    _, key = populate(session_kb, source)
    archive = tmp_path / "site.tar.gz"
    report = backup(source, archive)
    assert report.files >= 12 and report.rows > 0
    Path("kb.toml").unlink()
    target_url = database_url if database_url.startswith("postgresql") else \
        f"sqlite:///{tmp_path / 'target' / 'data' / 'kb.sqlite3'}"
    if database_url.startswith("postgresql"):
        target_url = _fresh_pg(database_url)
    target = empty_target(session_kb, tmp_path / "target", target_url)
    restored = restore(target, archive)
    assert restored.articles == len(list(session_kb.articles_dir.rglob("*.md"))) + 1
    state = restored_state(session_kb, target)
    assert state["user"] == "editor@example.com"
    assert "backed-up" in state["revisions"]
    assert state["found"] == ["backed-up"] and state["file"]
    assert state["key"] == key
    assert state["english_name"] == ENGLISH_NAME
    assert Path("kb.toml").read_text(encoding="utf-8") == 'site_name = "مركز الاختبار"\n'


def test_the_backup_takes_the_settings_file_kb_config_names(session_kb, tmp_path, database_url, monkeypatch):
    """GIVEN settings read from the file KB_CONFIG names (and another kb.toml in the working folder)
    WHEN the site is backed up
    THEN the archive's settings/kb.toml is the file the settings came from, and on SQLite the
    generated secret key is data_dir's (on PostgreSQL it is a row of the tables)."""
    monkeypatch.chdir(tmp_path)
    Path("kb.toml").write_text('site_name = "not this one"\n', encoding="utf-8")
    chosen = tmp_path / "etc" / "kb-site.toml"
    chosen.parent.mkdir()
    chosen.write_text('site_name = "مركز الاختبار"\n', encoding="utf-8")
    monkeypatch.setenv("KB_CONFIG", str(chosen))
    source = make_site(session_kb, tmp_path / "source", database_url)
    _, key = populate(session_kb, source)
    archive = tmp_path / "site.tar.gz"
    backup(source, archive)
    with tarfile.open(archive) as tar:
        assert tar.extractfile("settings/kb.toml").read() == chosen.read_bytes()
        members = set(tar.getnames())
    if database_url.startswith("postgresql"):
        assert "settings/secret_key" not in members
    else:
        with tarfile.open(archive) as tar:
            assert tar.extractfile("settings/secret_key").read().decode() == key == \
                source.secret_key_path.read_text(encoding="utf-8")


def _fresh_pg(url: str) -> str:
    """Another database on the same PostgreSQL server as `url` (empty: no tables)."""
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"restore_{abs(hash(url)) % 10**8}"
    with psycopg.connect(base + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def test_a_backup_moves_to_the_other_backend(session_kb, tmp_path, database_url, other_backend):
    """GIVEN a SQLite site (or a PostgreSQL one)
    WHEN its backup is restored into PostgreSQL (or SQLite)
    THEN accounts, revisions, the article and the cookie key come along (sessions stay valid)."""
    source = make_site(session_kb, tmp_path / "source", database_url)
    _, key = populate(session_kb, source)
    archive = tmp_path / "site.tar.gz"
    backup(source, archive)
    target = empty_target(session_kb, tmp_path / "moved", other_backend(database_url))
    restore(target, archive)
    state = restored_state(session_kb, target)
    assert state["user"] == "editor@example.com"
    assert state["found"] == ["backed-up"]
    assert state["key"] == key
    # New rows after the restore get new ids (PostgreSQL's identities continue after the restored ones).
    database = Database.from_settings(target)
    try:
        users.create_user(database.connection(), "second@example.com", PASSWORD, "editor")
    finally:
        database.close()


def test_restore_refuses_a_target_with_content_unless_forced(session_kb, tmp_path, database_url):
    """GIVEN a backup and a target that already has articles and rows
    WHEN restored without --force THEN nothing is touched and the error says why;
    WITH --force the old SQLite file and articles folder are moved aside, not deleted."""
    source = make_site(session_kb, tmp_path / "source", database_url)
    populate(session_kb, source)
    archive = tmp_path / "site.tar.gz"
    backup(source, archive)
    with pytest.raises(KbError) as refused:
        restore(source, archive)
    assert refused.value.code == "restore_target_not_empty"
    (source.articles_dir / "local-only.md").write_text("---\ntitle: x\n---\n\nx\n", encoding="utf-8")
    restore(source, archive, force=True)
    aside = [p.name for p in (tmp_path / "source").iterdir() if ".before-restore-" in p.name]
    assert any(name.startswith("articles.before-restore-") for name in aside)
    assert not (source.articles_dir / "local-only.md").exists()
    assert restored_state(session_kb, source)["found"] == ["backed-up"]


def test_a_node_seeding_during_a_postgresql_restore_waits_for_it(session_kb, tmp_path, pg_url, monkeypatch):
    """GIVEN a cluster database (its change log seeded from a node's folder) and a backup of it
    WHEN ``restore --force`` runs while another node finds the database unseeded and seeds its
    folder (a kb serve worker starting mid-restore: what failed CI with "Key (seq)=(1) already
    exists")
    THEN that node waits for the restore and copies nothing: it never saw the tables emptied,
    and the restored log is the archive's."""
    settings = make_site(session_kb, tmp_path / "site", pg_url)
    database = Database.from_settings(settings)
    knowledge = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    try:
        Replicator(knowledge, database).prepare()
        logged = [row["path"] for row in database.connection().execute(
            "SELECT path FROM collection_changes ORDER BY seq")]
    finally:
        knowledge.close()
        database.close()
    assert logged
    archive = tmp_path / "cluster.tar.gz"
    backup(settings, archive)
    other = Database.from_settings(settings, migrate=False)
    seeding: dict = {}
    real_load_rows = kb_backup.load_rows

    def seed_meanwhile() -> None:
        seeding["copied"] = changes.seed(other.connection(), lambda: iter([("other/x.md", b"x")]), "node2")

    def load_rows_while_a_node_seeds(conn, folder, manifest):
        thread = threading.Thread(target=seed_meanwhile)
        thread.start()
        thread.join(timeout=3)  # it finishes at once if it sees empty tables, else waits for the commit
        seeding["thread"] = thread
        return real_load_rows(conn, folder, manifest)

    monkeypatch.setattr(kb_backup, "load_rows", load_rows_while_a_node_seeds)
    try:
        restore(settings, archive, force=True)
        seeding["thread"].join(timeout=60)
        assert seeding == {"copied": 0, "thread": seeding["thread"]}
        conn = other.connection()
        assert [row["path"] for row in conn.execute("SELECT path FROM collection_changes ORDER BY seq")] == logged
    finally:
        other.close()


def test_a_damaged_or_foreign_archive_is_refused_before_anything_is_touched(session_kb, tmp_path):
    """A member changed, a member missing, a newer format, a newer kb's migration, not a tar:
    each is one clear error, and the target stays empty."""
    source = make_site(session_kb, tmp_path / "source", f"sqlite:///{tmp_path / 'source' / 'data' / 'kb.sqlite3'}")
    populate(session_kb, source)
    archive = tmp_path / "site.tar.gz"
    backup(source, archive)

    def rewritten(name: str, change) -> Path:
        """A copy of the archive with its members passed through change(members) -> members."""
        with tarfile.open(archive) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        members = change(members)
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as tar:
            for member, data in members.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path

    def manifest_change(**values):
        def change(members):
            manifest = json.loads(members["manifest.json"])
            manifest.update(values)
            return {**members, "manifest.json": json.dumps(manifest).encode()}
        return change

    some_article = next(name for name in json.loads(_manifest(archive))["checksums"] if name.endswith(".md"))
    cases = {
        "changed": (rewritten("changed.tar.gz", lambda m: {**m, some_article: m[some_article] + b"x"}),
                    "does not match its checksum"),
        "missing": (rewritten("missing.tar.gz", lambda m: {k: v for k, v in m.items() if k != some_article}),
                    "the archive is damaged"),
        "newer": (rewritten("newer.tar.gz", manifest_change(version=99)), "newer than this kb reads"),
        "migration": (rewritten("migration.tar.gz", manifest_change(migrations=["9999_future"])),
                      "made by a newer kb"),
    }
    (tmp_path / "text.tar.gz").write_text("not an archive")
    cases["not a tar"] = (tmp_path / "text.tar.gz", "not a readable kb backup")
    for name, (path, says) in cases.items():
        target = empty_target(session_kb, tmp_path / f"target-{name.replace(' ', '-')}",
                              f"sqlite:///{tmp_path / ('t-' + name.replace(' ', '-')) / 'kb.sqlite3'}")
        with pytest.raises(KbError) as refused:
            restore(target, path)
        assert says in str(refused.value.message), name
        assert not target.articles_dir.exists(), name


def _manifest(archive: Path) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile("manifest.json").read()


@pytest.mark.parametrize("seeded", [True, False], ids=["collection-in-database", "folder"])
def test_backups_taken_while_publishes_run_are_consistent(session_kb, tmp_path, database_url, seeded):
    """GIVEN an editor publishing article after article
    WHEN backups are taken meanwhile (the database holding the collection, or the folder being it)
    THEN in every archive the articles and the revisions agree: each published test article has
    its file and its revision, no file without its revision and no revision without its file."""
    settings = make_site(session_kb, tmp_path / "site", database_url)
    database = Database.from_settings(settings)
    knowledge = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    if seeded:
        Replicator(knowledge, database).prepare()  # what kb serve does: the collection in the database
    stop = threading.Event()
    published: list[str] = []

    def publish() -> None:
        publisher = Publisher(knowledge, database.connection())
        number = 0
        while not stop.is_set() and number < 200:
            number += 1
            publisher.create(new_form(f"busy-{number}", f"كلمة{number}"), "publish")
            published.append(f"busy-{number}")

    thread = threading.Thread(target=publish)
    thread.start()
    archives = []
    try:
        while len(archives) < 4:
            if len(published) > 2 * len(archives):
                path = tmp_path / f"during-{len(archives)}.tar.gz"
                backup(settings, path)
                archives.append(path)
    finally:
        stop.set()
        thread.join(timeout=120)
        knowledge.close()
        database.close()
    for path in archives:
        folder = tmp_path / (path.name + ".d")
        read_archive(path, folder)
        files = {p.stem for p in (folder / "articles").rglob("busy-*.md") if "_trash" not in p.parts}
        lines = (folder / "database" / "revisions.jsonl").read_text(encoding="utf-8").splitlines()
        revised = {json.loads(line)["slug"] for line in lines if line.strip()} & {s for s in published}
        assert files == revised, path.name
    assert len({len(_names(path)) for path in archives}) > 1  # the archives really were taken mid-stream


def _names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return [m.name for m in tar.getmembers() if "busy-" in m.name]


def test_the_commands(session_kb, tmp_path, monkeypatch):
    """kb backup FILE, kb restore FILE (and its refusal) through the CLI."""
    monkeypatch.chdir(tmp_path)
    source = make_site(session_kb, tmp_path / "source", "")
    populate(session_kb, source)
    ensure_secret_key(source)
    runner = CliRunner()
    folders = ["--articles-dir", str(source.articles_dir), "--index-dir", str(source.index_dir),
               "--data-dir", str(source.data_dir)]
    made = runner.invoke(cli, folders + ["backup", str(tmp_path / "b.tar.gz")], env={"KB_SECRET_KEY": ""})
    assert made.exit_code == 0, made.output
    assert "backup written to" in made.output
    refused = runner.invoke(cli, folders + ["restore", str(tmp_path / "b.tar.gz")])
    assert refused.exit_code == 1
    assert "the restore target is not empty" in refused.output + refused.stderr
    target = tmp_path / "target"
    shutil.copytree(session_kb.store.root / "embeddings", target / "index" / "embeddings")
    done = runner.invoke(cli, ["--articles-dir", str(target / "articles"), "--index-dir", str(target / "index"),
                               "--data-dir", str(target / "data"), "restore", str(tmp_path / "b.tar.gz")])
    assert done.exit_code == 0, done.output
    assert "restored" in done.output
    assert (target / "data" / "secret_key").read_text() == (source.data_dir / "secret_key").read_text()


def test_the_commands_open_the_database_once(session_kb, tmp_path, database_url, monkeypatch):
    """GIVEN a site on SQLite or PostgreSQL WHEN kb backup and kb restore --force run
    THEN each opens the database once: the command's check (reachable, else one clear
    error) hands its Database to the work, and kb backup migrates it once, not twice."""
    from kb.store import migrate as migrate_module

    monkeypatch.chdir(tmp_path)
    source = make_site(session_kb, tmp_path / "source", database_url)
    populate(session_kb, source)
    ensure_secret_key(source)
    opened: list[bool] = []  # each Database made: whether it migrates
    migrations: list[int] = []
    real_init, real_migrations = Database.__init__, migrate_module.migrate

    def counting_init(self, target, migrate=True):
        opened.append(migrate)
        real_init(self, target, migrate=migrate)

    monkeypatch.setattr(Database, "__init__", counting_init)
    monkeypatch.setattr(migrate_module, "migrate", lambda conn: migrations.append(1) or real_migrations(conn))
    runner = CliRunner()
    folders = ["--articles-dir", str(source.articles_dir), "--index-dir", str(source.index_dir),
               "--data-dir", str(source.data_dir)]
    env = {"KB_SECRET_KEY": "", "KB_DATABASE_URL": database_url}
    made = runner.invoke(cli, folders + ["backup", str(tmp_path / "b.tar.gz")], env=env)
    assert made.exit_code == 0, made.output
    assert opened == [True] and len(migrations) == 1
    opened.clear()
    done = runner.invoke(cli, folders + ["restore", "--force", str(tmp_path / "b.tar.gz")], env=env)
    assert done.exit_code == 0, done.output
    assert opened == [False]
    assert restored_state(session_kb, source)["found"] == ["backed-up"]

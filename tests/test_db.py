"""kb.store.db and kb.store.migrate on both databases: placeholders, rows, RETURNING, ON CONFLICT,
transactions, errors, locks, notifications, migrations (one set for both, each applied once by
racing processes)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time

import pytest

from kb.store import db as kbdb
from kb.store import migrate as kbmigrate
from kb.store.db import Database

MIGRATIONS = [path.stem for path in kbmigrate.migration_files()]


@pytest.fixture
def conn(database_url):
    database = Database(database_url)
    yield database.connection()
    database.close()


@pytest.fixture
def scratch(conn):
    """A table of its own, written in the portable subset (the migrations' spelling)."""
    script = ("CREATE TABLE scratch (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
              "hits INTEGER NOT NULL DEFAULT 0, weight REAL, data BLOB)")
    conn.execute(kbmigrate.pg_ddl(script) if conn.dialect == "postgresql" else script)
    return conn


def test_placeholders_become_psycopg_style_outside_literals_only():
    assert kbdb.pg_placeholders("SELECT * FROM t WHERE a = ? AND b = ?") == "SELECT * FROM t WHERE a = %s AND b = %s"
    assert kbdb.pg_placeholders("SELECT '?', \"odd?name\", ? -- why?\n") == "SELECT '?', \"odd?name\", %s -- why?\n"
    assert kbdb.pg_placeholders("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"
    assert kbdb.pg_placeholders("SELECT '100%' LIKE ?") == "SELECT '100%%' LIKE %s"


def test_question_mark_in_a_literal_and_a_percent_sign_are_kept(conn):
    row = conn.execute("SELECT '?' AS question, '50%' AS percent, ? AS value, 'a%b' LIKE ? AS matched",
                       ("x", "a%")).fetchone()
    assert (row["question"], row["percent"], row["value"], bool(row["matched"])) == ("?", "50%", "x", True)
    assert conn.execute("SELECT '100%' AS p").fetchone()["p"] == "100%"  # no parameters: nothing rewritten


def test_rows_answer_by_name_and_by_index(scratch):
    scratch.execute("INSERT INTO scratch (name, hits) VALUES (?, ?)", ("a", 3))
    row = scratch.execute("SELECT id, name, hits FROM scratch").fetchone()
    assert row["name"] == row[1] == "a"
    assert row["hits"] == row[2] == 3
    assert list(row.keys()) == ["id", "name", "hits"]
    assert dict(row) == {"id": row[0], "name": "a", "hits": 3}
    assert tuple(row) == (row[0], "a", 3)
    id_, name, hits = row
    assert name == "a"
    with pytest.raises(IndexError):
        row["missing"]
    assert [r["name"] for r in scratch.execute("SELECT name FROM scratch")] == ["a"]


def test_insert_returning_gives_the_new_ids_in_order(scratch):
    first = scratch.execute("INSERT INTO scratch (name) VALUES (?) RETURNING id", ("a",)).fetchone()["id"]
    second = scratch.execute("INSERT INTO scratch (name) VALUES (?) RETURNING id, name", ("b",)).fetchone()
    assert isinstance(first, int) and second["id"] > first and second["name"] == "b"


def test_on_conflict_do_nothing_and_do_update(scratch):
    upsert = ("INSERT INTO scratch (name, hits) VALUES (?, ?) "
              "ON CONFLICT (name) DO UPDATE SET hits = scratch.hits + excluded.hits")
    scratch.execute(upsert, ("a", 1))
    scratch.execute(upsert, ("a", 2))
    ignored = scratch.execute("INSERT INTO scratch (name, hits) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", ("a", 50))
    assert ignored.rowcount == 0
    assert scratch.execute("SELECT hits FROM scratch WHERE name = ?", ("a",)).fetchone()[0] == 3


def test_values_come_back_as_sqlite_gives_them(scratch):
    scratch.execute("INSERT INTO scratch (name, hits, weight, data) VALUES (?, ?, ?, ?)", ("a", True, 0.1, b"\x00\xff"))
    scratch.execute("INSERT INTO scratch (name, hits, weight) VALUES (?, ?, ?)", ("b", 2, 1 / 3))
    row = scratch.execute("SELECT hits, weight, data FROM scratch WHERE name = 'a'").fetchone()
    assert (row["hits"], row["weight"], bytes(row["data"])) == (1, 0.1, b"\x00\xff")  # a boolean stored as 1
    assert scratch.execute("SELECT weight FROM scratch WHERE name = 'b'").fetchone()[0] == 1 / 3  # 8-byte REAL
    total, average, count = scratch.execute("SELECT SUM(hits), AVG(hits), COUNT(*) FROM scratch").fetchone()
    assert (total, count) == (3, 2) and type(total) is int and type(count) is int
    assert average == 1.5 and type(average) is float


def test_executemany_and_rowcount(scratch):
    scratch.executemany("INSERT INTO scratch (name, hits) VALUES (?, ?)", [("a", 1), ("b", 2), ("c", 3)])
    assert scratch.execute("UPDATE scratch SET hits = hits + 1 WHERE hits >= ?", (2,)).rowcount == 2
    assert scratch.execute("DELETE FROM scratch WHERE name = ?", ("zzz",)).rowcount == 0


def test_transaction_commits_or_rolls_back_and_reraises(scratch):
    with scratch.transaction():
        scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("kept",))
        assert scratch.in_transaction
    assert not scratch.in_transaction
    with pytest.raises(ZeroDivisionError):
        with scratch.transaction():
            scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("lost",))
            1 / 0
    assert not scratch.in_transaction
    assert [row[0] for row in scratch.execute("SELECT name FROM scratch")] == ["kept"]


def test_nested_transaction_is_a_savepoint(scratch):
    with scratch.transaction():
        scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("outer",))
        with pytest.raises(kbdb.IntegrityError):
            with scratch.transaction():
                scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("inner",))
                scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("outer",))
        scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("after",))  # PostgreSQL: not aborted
    assert sorted(row[0] for row in scratch.execute("SELECT name FROM scratch")) == ["after", "outer"]


def test_unique_violation_is_one_error_for_both_drivers(scratch):
    scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("a",))
    with pytest.raises(kbdb.IntegrityError) as raised:
        scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("a",))
    assert isinstance(raised.value, sqlite3.IntegrityError)  # code that still catches sqlite3's keeps working
    scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("b",))  # the connection is usable afterwards
    with pytest.raises(kbdb.OperationalError):
        scratch.execute("SELECT * FROM no_such_table")


def test_case_insensitive_email_column_on_both(conn):
    """0003's ``email ... UNIQUE COLLATE NOCASE`` refuses the same address in another case on both."""
    insert = "INSERT INTO staff_users (email, password_hash, role) VALUES (?, 'h', 'editor')"
    conn.execute(insert, ("a@example.com",))
    with pytest.raises(kbdb.IntegrityError):
        conn.execute(insert, ("A@Example.com",))
    assert conn.execute("SELECT COUNT(*) FROM staff_users WHERE lower(email) = lower(?)", ("A@EXAMPLE.com",)).fetchone()[0] == 1


def test_durable_block_works_on_both(scratch):
    with kbdb.durable(scratch):
        with scratch.transaction():
            scratch.execute("INSERT INTO scratch (name) VALUES (?)", ("a",))
    assert scratch.execute("SELECT COUNT(*) FROM scratch").fetchone()[0] == 1


def test_lock_needs_a_transaction(conn):
    with pytest.raises(RuntimeError, match="transaction"):
        conn.lock("anything")


def test_named_lock_serializes_transactions(database_url):
    """Two threads incrementing a counter read-modify-write under lock(): no update is lost."""
    database = Database(database_url)
    conn = database.connection()
    conn.execute("INSERT INTO brand_settings (key, value) VALUES ('counter', '0')")

    def bump(times: int) -> None:
        own = database.connection()
        for _ in range(times):
            with own.transaction():
                own.lock("counter")
                value = int(own.execute("SELECT value FROM brand_settings WHERE key = 'counter'").fetchone()[0])
                time.sleep(0.001)
                own.execute("UPDATE brand_settings SET value = ? WHERE key = 'counter'", (str(value + 1),))

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert conn.execute("SELECT value FROM brand_settings WHERE key = 'counter'").fetchone()[0] == "75"
    database.close()


def test_each_thread_has_its_own_connection(database_url):
    database = Database(database_url)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(database.connection()))
    thread.start()
    thread.join()
    assert seen[0] is not database.connection()
    assert database.connection() is database.connection()
    database.close()


def test_notify_reaches_a_listener_on_postgresql(pg_url):
    import psycopg

    listener = psycopg.connect(pg_url, autocommit=True)
    listener.execute("LISTEN kb_test")
    conn = Database(pg_url).connection()
    with conn.transaction():
        conn.notify("kb_test", "article:42")
    received = [(n.channel, n.payload) for n in listener.notifies(timeout=5, stop_after=1)]
    assert received == [("kb_test", "article:42")]
    listener.close()


def test_notify_is_a_no_op_on_sqlite(tmp_path):
    conn = Database(tmp_path / "kb.sqlite3").connection()
    conn.notify("kb_test", "x")
    with conn.transaction():
        conn.lock("x")
        conn.notify("kb_test", "y")


def test_a_dropped_postgresql_connection_is_replaced(pg_url):
    database = Database(pg_url)
    first = database.connection()
    pid = first.execute("SELECT pg_backend_pid()").fetchone()[0]
    Database(pg_url, migrate=False).connection().execute("SELECT pg_terminate_backend(?)", (pid,))
    with pytest.raises(kbdb.OperationalError):
        first.execute("SELECT 1")
    assert database.connection() is not first
    assert database.connection().execute("SELECT 1").fetchone()[0] == 1


def test_targets_and_bad_urls(tmp_path):
    assert kbdb.parse_target(tmp_path / "a.sqlite3") == kbdb.Target("sqlite", path=tmp_path / "a.sqlite3")
    assert kbdb.parse_target("sqlite:////var/kb/kb.sqlite3").path.as_posix() == "/var/kb/kb.sqlite3"
    assert kbdb.parse_target("postgres://kb@db/kb").url == "postgresql://kb@db/kb"
    assert kbdb.parse_target("postgresql+psycopg://kb@db/kb").url == "postgresql://kb@db/kb"
    with pytest.raises(ValueError, match="mysql"):
        kbdb.parse_target("mysql://kb@db/kb")
    assert kbdb.redact("postgresql://kb:secret@db:5432/kb") == "postgresql://kb:***@db:5432/kb"


def test_unreachable_postgresql_says_where(pg_server):
    from pg_cluster import free_port

    with pytest.raises(kbdb.OperationalError, match=r"cannot connect to PostgreSQL at postgresql://kb:\*\*\*@127.0.0.1"):
        Database(f"postgresql://kb:secret@127.0.0.1:{free_port()}/kb")


def test_migration_ddl_translation():
    assert kbmigrate.pg_ddl("id INTEGER PRIMARY KEY,") == "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    assert kbmigrate.pg_ddl("n INTEGER NOT NULL, at REAL, data BLOB") == "n BIGINT NOT NULL, at DOUBLE PRECISION, data BYTEA"
    assert kbmigrate.pg_ddl("email TEXT COLLATE NOCASE") == "email TEXT COLLATE kb_nocase"
    assert "to_char(now() AT TIME ZONE 'UTC'" in kbmigrate.pg_ddl("DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")
    assert kbmigrate.split_statements("CREATE TABLE a (x TEXT DEFAULT ';'); -- done;\n-- only a comment;\nDROP TABLE a;") == [
        "CREATE TABLE a (x TEXT DEFAULT ';');", "-- done;\n-- only a comment;\nDROP TABLE a;"]


def test_every_migration_applies_on_an_empty_database(empty_database_url):
    database = Database(empty_database_url)
    assert database.migrated == MIGRATIONS
    conn = database.connection()
    status = kbmigrate.migration_status(conn)
    assert (status.applied, status.pending, status.unknown) == (MIGRATIONS, [], [])
    assert Database(empty_database_url).migrated == []  # the second start applies nothing
    default = conn.execute("INSERT INTO audit_log (action) VALUES ('x') RETURNING created_at").fetchone()[0]
    assert len(default) == len("2026-01-01T00:00:00Z") and default.endswith("Z")


def test_status_without_migrating(empty_database_url, tmp_path):
    unmigrated = Database(empty_database_url, migrate=False).connection()
    assert kbmigrate.migration_status(unmigrated).pending == MIGRATIONS
    extra = tmp_path / "migrations"
    extra.mkdir()
    for name in MIGRATIONS[:2]:
        (extra / f"{name}.sql").write_text((kbmigrate.MIGRATIONS_DIR / f"{name}.sql").read_text(encoding="utf-8"))
    assert kbmigrate.migrate(unmigrated, extra) == MIGRATIONS[:2]
    status = kbmigrate.migration_status(unmigrated)
    assert status.applied == MIGRATIONS[:2] and status.pending == MIGRATIONS[2:]


def test_a_failing_migration_leaves_nothing_half_done(empty_database_url, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_good.sql").write_text("CREATE TABLE good (id INTEGER PRIMARY KEY);")
    (folder / "0002_bad.sql").write_text("CREATE TABLE half (id INTEGER PRIMARY KEY);\nCREATE TABLE good (id INTEGER);")
    conn = Database(empty_database_url, migrate=False).connection()
    with pytest.raises(kbdb.OperationalError):
        kbmigrate.migrate(conn, folder)
    assert kbmigrate.migration_status(conn, folder).applied == ["0001_good"]
    with pytest.raises(kbdb.OperationalError):
        conn.execute("SELECT * FROM half")  # rolled back with the rest of 0002


def _migrate_in_process(url: str, barrier, results) -> None:
    """One of several processes starting at once on a fresh database (spawned: a clean interpreter)."""
    try:
        barrier.wait(60)
        results.put(("ok", Database(url).migrated))
    except BaseException as exc:  # reported to the test, which fails with it
        results.put(("error", repr(exc)))


def test_processes_starting_together_apply_each_migration_once(empty_database_url):
    context = multiprocessing.get_context("spawn")
    count = 4
    barrier, results = context.Barrier(count), context.Queue()
    processes = [context.Process(target=_migrate_in_process, args=(empty_database_url, barrier, results))
                 for _ in range(count)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(30)
    assert [kind for kind, _ in outcomes] == ["ok"] * count, outcomes
    applied = sorted(name for _, names in outcomes for name in names)
    assert applied == MIGRATIONS  # every migration exactly once, across all processes
    conn = Database(empty_database_url, migrate=False).connection()
    rows = [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert rows == MIGRATIONS


def _query_in_forked_child(database: Database, results) -> None:
    try:
        inherited = database._local.conn
        own = database.connection()
        results.put(("ok", own is not inherited, own.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]))
    except BaseException as exc:  # reported to the test
        results.put(("error", repr(exc)))


def test_a_forked_worker_opens_its_own_connection(database_url):
    """A server that forks workers after opening the database (gunicorn's preload): the child
    must not talk over the parent's connection, nor close it."""
    database = Database(database_url)
    parent = database.connection()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_query_in_forked_child, args=(database, results))
    child.start()
    outcome = results.get(timeout=60)
    child.join(30)
    assert outcome == ("ok", True, len(MIGRATIONS))
    assert database.connection() is parent
    assert parent.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    database.close()


def test_postgresql_without_icu_still_migrates(pg_server, monkeypatch):
    """A server built without ICU refuses the case-insensitive collation: kb uses byte order
    there (staff e-mails are stored lower-cased anyway) instead of failing to start."""
    monkeypatch.setattr(kbmigrate, "_PG_NOCASE", "CREATE COLLATION kb_nocase (provider = no_such_provider, locale = 'und')")
    url = pg_server.new_database()
    assert Database(url).migrated == MIGRATIONS
    conn = Database(url).connection()
    conn.execute("INSERT INTO staff_users (email, password_hash, role) VALUES ('a@example.com', 'h', 'editor')")
    assert conn.execute("SELECT COUNT(*) FROM staff_users WHERE lower(email) = lower(?)", ("A@example.COM",)).fetchone()[0] == 1

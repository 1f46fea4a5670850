"""A database an earlier release wrote opens with today's kb, is migrated once and keeps every row.

tests/fixtures/previous-release-db holds what earlier releases left behind, written through those
releases' own code by scripts/make_upgrade_fixture.py (its docstring says how to write them again):

- ``sqlite/``: the data folder (``kb.sqlite3`` and the generated ``secret_key``) of kb 993b95e, the
  last SQLite-only release, four migrations behind (no 0009 rate limits, 0010 change log, 0011
  shared secrets, 0012 lower-cased addresses), written by its own migration runner.
- ``postgresql/``: a ``pg_dump`` of the database kb a9b8517 (the release whose search index
  tests/test_upgrade.py keeps) wrote on PostgreSQL: every table has rows, the change log and
  the shared secret key included.  No PostgreSQL release had an older schema, so it is at
  today's schema until a new migration comes; the test then applies it with no change here.

``previous.json`` beside each says what the old users knew: passwords, the API key, the panel
link token, a staff session.  The suite otherwise creates every database fresh, so without these
nothing would notice a migration that loses rows or a change that stops old rows working.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import make_settings
from kb.brand import BrandStore
from kb.contact import ContactStore
from kb.content import redirects
from kb.content import revisions
from kb.errors import KbError
from kb.panel_links import verify_token
from kb.store import apikeys
from kb.store import audit
from kb.store import staff_sessions
from kb.store import users
from kb.store.analytics import Analytics
from kb.store.db import Connection
from kb.store.db import Database
from kb.store.migrate import migration_files
from kb.store.migrate import migration_status
from kb.store.secrets import app_secret_key
from kb.widget_origins import WidgetOrigins
from staff_fixtures import StaffClient

FIXTURES = Path(__file__).parent / "fixtures" / "previous-release-db"

# What a migration is meant to change in rows that were already there: (table, column) -> how.
# Everything else must come through an upgrade exactly as it was.  (The fixture's addresses are
# ASCII, where SQLite's and PostgreSQL's lower() and str.lower agree.)
REWRITES = {
    "0012_email_case": {("staff_users", "email"): str.lower, ("login_failures", "email"): str.lower},
}


@dataclass
class Previous:
    """The earlier release's database where today's kb finds it (``settings``), and what its
    users knew (``known``: previous.json)."""

    folder: str
    backend: str
    settings: object
    known: dict

    def as_it_is(self) -> dict:
        """The database's tables and rows before today's kb migrates it (``contents``)."""
        untouched = Database(self.settings.database_url or self.settings.database_path, migrate=False)
        try:
            return contents(untouched.connection())
        finally:
            untouched.close()


RELEASES = sorted(folder.name for folder in FIXTURES.iterdir() if (folder / "previous.json").exists())


@pytest.fixture(params=RELEASES)
def previous(request, tmp_path) -> Previous:
    """One fixture folder: a SQLite data folder (``kb.sqlite3``) or a PostgreSQL dump (``kb.sql``,
    loaded into a new database of the session's cluster)."""
    folder = FIXTURES / request.param
    known = json.loads((folder / "previous.json").read_text(encoding="utf-8"))
    if (folder / "kb.sqlite3").exists():
        (tmp_path / "data").mkdir()
        shutil.copy2(folder / "kb.sqlite3", tmp_path / "data" / "kb.sqlite3")
        shutil.copy2(folder / "secret_key", tmp_path / "data" / "secret_key")
        yield Previous(folder.name, "sqlite", make_settings(tmp_path, secret_key=""), known)
        return
    server = request.getfixturevalue("pg_server")
    url = server.new_database()
    loaded = subprocess.run([str(server.bin_dir / "psql"), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1",
                             "--dbname", url, "--file", str(folder / "kb.sql")], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    yield Previous(folder.name, "postgresql", make_settings(tmp_path, secret_key="", database_url=url), known)
    server.drop_database(url)


# --- looking at a database ----------------------------------------------------------------------------

def tables(conn: Connection) -> list[str]:
    if conn.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
    return [row[0] for row in conn.execute(sql)]


def schema(conn: Connection) -> dict[str, object]:
    """Every table's columns with their declared types, and every index, by name."""
    found: dict[str, object] = {}
    for table in tables(conn):
        if conn.dialect == "sqlite":
            columns = [(row[1], row[2], row[3]) for row in conn.execute(f"PRAGMA table_info({table})")]
        else:
            columns = [tuple(row) for row in conn.execute(
                "SELECT column_name, data_type, is_nullable, collation_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position", (table,))]
        found[table] = columns
    if conn.dialect == "sqlite":
        indexes = conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' ORDER BY name")
    else:
        indexes = conn.execute("SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
    found["indexes"] = [tuple(row) for row in indexes]
    return found


def contents(conn: Connection) -> dict[str, tuple[list[str], Counter]]:
    """Every table's columns and rows (as a multiset of value tuples)."""
    found = {}
    for table in tables(conn):
        cursor = conn.execute(f"SELECT * FROM {table}")
        columns = [column[0] for column in cursor.description]
        found[table] = (columns, Counter(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                                         for row in cursor.fetchall()))
    return found


def as_migrated(before: dict, applied: list[str]) -> dict:
    """``before``'s rows as the migrations in ``applied`` are meant to leave them (``REWRITES``)."""
    expected = {}
    for table, (columns, rows) in before.items():
        for name in applied:
            for (rewritten, column), rewrite in REWRITES.get(name, {}).items():
                if rewritten == table:
                    at = columns.index(column)
                    rows = Counter({row[:at] + (rewrite(row[at]),) + row[at + 1:]: count for row, count in rows.items()})
        expected[table] = (columns, rows)
    return expected


def rows_of(found: dict, table: str, columns: list[str]) -> Counter:
    """``table``'s rows in ``found``, only the given columns (a migration may add columns)."""
    names, rows = found[table]
    at = [names.index(column) for column in columns]
    return Counter({tuple(row[i] for i in at): count for row, count in rows.items()})


# --- the tests ---------------------------------------------------------------------------------------------

def test_the_previous_release_s_database_is_migrated_once_and_keeps_every_row(previous, tmp_path, request):
    """GIVEN a database the earlier release wrote, with rows in every table it had
    WHEN today's kb opens it as the app does (the settings' database, migrations on open)
    THEN the migrations it lacked are applied in order, once; it has today's schema; every row
    is still there with its values (only what a migration is meant to rewrite differs); and
    opening it again applies nothing and changes nothing."""
    before = previous.as_it_is()
    assert all(rows for table, (_, rows) in before.items() if table != "schema_migrations"), \
        "the fixture should have rows in every table of its release"
    applied_before = {row[0] for row in before["schema_migrations"][1]}
    every_migration = [path.stem for path in migration_files()]
    if previous.folder == "sqlite":  # 993b95e: four migrations behind
        assert len(set(every_migration) - applied_before) >= 4, "this fixture stands for an older schema"

    database = Database.from_settings(previous.settings)
    assert database.migrated == [name for name in every_migration if name not in applied_before]
    status = migration_status(database.connection())
    assert (status.applied, status.pending, status.unknown) == (every_migration, [], [])

    if previous.backend == "sqlite":
        fresh = Database(tmp_path / "fresh" / "kb.sqlite3")
    else:
        fresh = Database(request.getfixturevalue("pg_url"))
    assert schema(database.connection()) == schema(fresh.connection())

    after = contents(database.connection())
    expected = as_migrated(before, database.migrated)
    for table, (columns, rows) in expected.items():
        assert rows_of(after, table, columns) - rows == Counter() or table == "schema_migrations", table
        assert rows - rows_of(after, table, columns) == Counter(), f"rows of {table} lost or changed"
    assert {row[0] for row in after["schema_migrations"][1]} == set(every_migration)
    assert all(not rows for table, (_, rows) in after.items() if table not in before), "a new table came with rows"

    again = Database.from_settings(previous.settings)
    assert again.migrated == []
    assert contents(again.connection()) == after
    database.close()
    again.close()
    fresh.close()


def test_what_the_previous_release_kept_works_with_today_s_code(previous):
    """GIVEN the upgraded database
    THEN staff sign in with their passwords (however they typed their address before), their
    session and the sign-in throttle carry over, the API key and the panel link still open,
    the generated secret key is the same, and the reports, revisions, redirects, audit log,
    brand, contact messages and widget sites read back what the earlier release wrote."""
    known = previous.known
    database = Database.from_settings(previous.settings)
    conn = database.connection()
    session = known["staff_session"]
    throttled = known["throttled"]
    accounts = {user.email: user for user in users.list_users(conn)}
    assert sorted(accounts) == sorted(users.normalize_email(email) for email in known["passwords"])
    admin_email = users.normalize_email(session["email"])
    assert accounts[admin_email].is_admin and accounts[admin_email].last_login_at
    # As of a minute after the fixture was written (first: a sign-in now clears old failures).
    soon = session["opened_at"] + 60
    assert staff_sessions.user_id_for(conn, session["id"], now=soon) == accounts[admin_email].id
    assert users.seconds_locked(conn, throttled["email"], "192.0.2.1", now=soon) > 0  # the address's lock
    for email, password in known["passwords"].items():
        typed = email if email == email.lower() else email.upper()  # the address in another case than stored
        if accounts[users.normalize_email(email)].active:
            assert users.authenticate(conn, typed, password, "192.0.2.1").email == users.normalize_email(email)
        else:
            with pytest.raises(KbError):
                users.authenticate(conn, typed, password, "192.0.2.1")

    key = apikeys.verify_key(conn, known["api_key"])
    assert key is not None and key.active and key.rate_limit == 120
    assert [k.active for k in apikeys.list_keys(conn)].count(False) == 1  # the revoked one stays revoked

    secret_key = app_secret_key(previous.settings, database)
    assert secret_key == known["secret_key"]  # data_dir's file on SQLite, shared_secrets on PostgreSQL
    link = verify_token(conn, known["panel_token"], secret_key)
    assert link is not None and link.origins == ("https://chat.example.com",)

    analytics = Analytics(database)
    queries = {stat.normalized: stat for stat in analytics.top_queries(days=None)}
    assert {"refund", "forgot password"} <= set(queries) and len(queries) >= 5
    assert sum(stat.clicks for stat in queries.values()) >= 1
    assert {stat.source for stat in analytics.searches_by_source(days=None)} >= {"site", "api"}
    votes = analytics.article_votes("refunds")
    assert (votes.helpful, votes.not_helpful) == (1, 1)
    [unhelpful] = analytics.least_helpful_articles(days=None)
    assert [comment for _, _, comment in unhelpful.comments] == ["لم أجد رسوم الشحن"]
    assert analytics.vote_of("refunds", "visitor-1") == {"helpful": True, "comment": None}
    assert [view.slug for view in analytics.most_viewed_articles(days=None)]

    pending = revisions.pending(conn, "refunds")
    assert pending is not None and "لا تُسترد رسوم الشحن" in pending.text and pending.note == "رسوم الشحن"
    assert [revision.state for revision in revisions.history(conn, "gift-cards")] == ["deleted", "published"]
    assert redirects.target(conn, "/articles/shipping") == "/articles/shipping-times"

    entries = audit.entries(conn, limit=500)
    assert {"user_created", "api_key_created", "article_published", "slug_renamed", "article_deleted"} <= {
        entry.action for entry in entries}
    # The admin's own entries, found by the address she has now (the audit page's user filter).
    mine = audit.entries(conn, limit=500, user_email=admin_email)
    assert {"slug_renamed", "article_deleted", "sign_in"} <= {entry.action for entry in mine}

    brand = BrandStore(conn).load()
    assert brand.site_names == {"ar": "مساعدة المتجر", "en": "Shop Help"} and brand.primary_color == "#0b5394"
    logo = BrandStore(conn).asset("logo")
    assert logo is not None and logo[1] == "image/png" and logo[0].startswith(b"\x89PNG")

    desk = ContactStore(database)
    assert desk.load_settings().webhook_url == "https://helpdesk.example.com/hook"
    messages = {message.email: message for message in desk.messages()}
    assert messages["Mona@Example.net"].status == "sent" and messages["Mona@Example.net"].opened == ("refunds",)
    assert messages["sam@example.net"].status == "pending"
    assert desk.deflection(days=None).sent == 2

    assert WidgetOrigins(conn).allows(known["widget_origin"])
    database.close()


def test_the_app_on_the_previous_release_s_database(previous):
    """GIVEN the earlier release's database under today's app (its migrations applied as it starts)
    THEN the admin signs in with her password, the audit page finds her entries from before the
    upgrade by her address, and the old API key searches."""
    from kb import KnowledgeBase
    from kb.web import create_app

    shutil.copytree(FIXTURES.parent / "previous-release" / "articles", previous.settings.articles_dir)
    knowledge = KnowledgeBase.from_settings(previous.settings, embedder=False)  # keyword search is enough here
    knowledge.build()
    app = create_app(previous.settings, knowledge=knowledge, test_config={"TESTING": True})
    passwords = {users.normalize_email(email): password for email, password in previous.known["passwords"].items()}
    email = users.normalize_email(previous.known["staff_session"]["email"])
    staff = StaffClient(app.test_client())
    assert staff.login(email.upper(), passwords[email]).status_code == 302
    page = staff.get("/staff/audit", query_string={"user": email}).get_data(as_text=True)
    assert "shipping-times" in page and "gift-cards" in page  # her rename and delete, before the upgrade

    response = app.test_client().get("/api/v1/search", query_string={"q": "استرداد المبلغ"},
                                     headers={"Authorization": f"Bearer {previous.known['api_key']}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [hit["slug"] for hit in response.get_json()["results"]][:1] == ["refunds"]
    app.extensions["kb_db"].close()

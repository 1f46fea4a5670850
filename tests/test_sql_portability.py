"""The statements of the store, content and web modules give the same answers on SQLite and on
PostgreSQL: the places where the two dialects differ (case of e-mails, sums and their types,
upserts, NUL characters, errors inside a transaction, concurrent writers, column defaults)."""

from __future__ import annotations

import ast
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

import kb
from kb import assist
from kb import panel_links
from kb.brand import Brand
from kb.brand import BrandStore
from kb.contact import ContactStore
from kb.content import redirects
from kb.content import revisions
from kb.errors import KbError
from kb.store import apikeys
from kb.store import audit
from kb.store import staff_sessions
from kb.store import users
from kb.store.analytics import Analytics
from kb.store.analytics import ArticleVotes
from kb.store.db import Database
from kb.store.migrate import migrate
from kb.store.migrate import migration_files
from kb.web.staff.admin import agent_feedback
from kb.widget_origins import WidgetOrigins
from kb.widget_origins import parse_origin

SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PASSWORD = "long enough password"


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    yield database
    database.close()


@pytest.fixture
def conn(database):
    return database.connection()


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(users, "PASSWORD_METHOD", "scrypt:1024:8:1")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """A database without any migration applied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    return request.getfixturevalue("pg_server").new_database()


# -- e-mails: one case, found in any -------------------------------------------------------------


def test_emails_are_stored_in_one_case_and_found_in_any(conn, fast):
    user = users.create_user(conn, "  Admin@Example.COM ", PASSWORD, "admin")
    assert user.email == "admin@example.com"
    assert users.find_user(conn, "ADMIN@example.com").id == user.id
    assert users.authenticate(conn, "Admin@EXAMPLE.com", PASSWORD, "client").id == user.id
    with pytest.raises(KbError) as caught:
        users.create_user(conn, "admin@EXAMPLE.com", PASSWORD, "editor")
    assert (caught.value.code, caught.value.status) == ("email_taken", 409)
    with conn.transaction():  # a taken address does not abort the caller's transaction (PostgreSQL)
        with pytest.raises(KbError):
            users.create_user(conn, "ADMIN@example.com", PASSWORD, "editor")
        users.create_user(conn, "editor@example.com", PASSWORD, "editor")
    assert [u.email for u in users.list_users(conn)] == ["admin@example.com", "editor@example.com"]


def test_sign_in_throttle_counts_an_address_in_any_case(conn, fast):
    users.create_user(conn, "a@example.com", PASSWORD, "editor")
    now = time.time()
    for number, email in enumerate(["A@example.com", "a@EXAMPLE.com", "a@example.com", "A@Example.Com", "a@example.COM"]):
        with pytest.raises(KbError):
            users.authenticate(conn, email, "wrong password!!", f"client-{number}", now=now)
    assert users.seconds_locked(conn, "a@example.com", "another client", now=now) > 0
    with pytest.raises(KbError) as caught:
        users.authenticate(conn, "a@example.com", PASSWORD, "another client", now=now)
    assert caught.value.status == 429


def test_addresses_stored_in_mixed_case_before_are_lowered_by_migration_0012(empty_url, tmp_path, fast):
    """GIVEN a database migrated before 0012, with an address kept as typed WHEN kb starts (the
    migrations run) THEN the address is stored lowered and signing in works in any case."""
    before = tmp_path / "before"
    before.mkdir()
    for path in migration_files():
        if path.stem < "0012":
            shutil.copy(path, before)
    database = Database(empty_url, migrate=False)
    conn = database.connection()
    migrate(conn, before)
    conn.execute("INSERT INTO staff_users (email, password_hash, role) VALUES (?, ?, 'admin')",
                 ("Admin@Example.COM", generate_password_hash(PASSWORD, method=users.PASSWORD_METHOD)))
    conn.execute("INSERT INTO login_failures (email, client, at) VALUES (?, ?, ?)", ("Admin@Example.COM", "c", time.time()))

    assert "0012_email_case" in migrate(conn)
    assert [u.email for u in users.list_users(conn)] == ["admin@example.com"]
    assert conn.execute("SELECT email FROM login_failures").fetchone()["email"] == "admin@example.com"
    assert users.authenticate(conn, "ADMIN@example.com", PASSWORD, "client").email == "admin@example.com"
    database.close()


# -- reports: sums, ratios and their types ----------------------------------------------------


def test_search_reports_count_as_plain_integers(database, conn):
    analytics = Analytics(database)
    for query, results in [("refund", 0), ("Refund", 3), ("shipping", 2)]:
        analytics.record_search(query, results)
    search_id = analytics.record_search("refund", 0, source="widget")
    assert isinstance(search_id, int)
    assert analytics.record_click(search_id, "refund-policy", 1) and not analytics.record_click(search_id, "other", 2)
    assert SECONDS.match(conn.execute("SELECT clicked_at FROM searches WHERE id = ?", (search_id,)).fetchone()[0])

    by_source = analytics.searches_by_source(days=None)
    assert [(s.source, s.searches, s.without_results, s.clicks) for s in by_source] == [("site", 3, 1, 0),
                                                                                      ("widget", 1, 1, 1)]
    assert {type(value) for s in by_source for value in (s.searches, s.without_results, s.clicks)} == {int}
    top = analytics.top_queries(days=None)
    assert [(q.normalized, q.searches, q.clicks) for q in top] == [("refund", 3, 1), ("shipping", 1, 0)]
    assert type(top[0].avg_results) is float and top[0].avg_results == 1.0
    assert [(q.normalized, q.searches) for q in analytics.zero_result_queries(days=None)] == [("refund", 2)]
    assert analytics.top_queries(days=30, limit=1)[0].normalized == "refund"


def test_votes_once_per_visitor_and_the_least_helpful_ratio(database):
    analytics = Analytics(database)
    assert analytics.record_vote("a", "v1", False, "unclear")
    assert not analytics.record_vote("a", "v1", True)  # ON CONFLICT DO NOTHING: the first vote stays
    analytics.record_vote("a", "v2", True)
    analytics.record_vote("b", "v1", False)
    analytics.record_vote("b", "v2", False)
    analytics.record_vote("c", "v1", True)
    assert analytics.vote_of("a", "v1") == {"helpful": False, "comment": "unclear"}

    least = analytics.least_helpful_articles(days=None)
    assert [(a.slug, a.helpful, a.not_helpful) for a in least] == [("b", 0, 2), ("a", 1, 1)]
    assert least[1].comments[0][1:] == (False, "unclear")
    assert analytics.article_votes("a") == ArticleVotes("a", 1, 1)
    assert analytics.article_votes("nothing") == ArticleVotes("nothing", 0, 0)
    assert {type(value) for a in least for value in (a.helpful, a.not_helpful)} == {int}


def test_agent_feedback_replaces_a_verdict_and_reports_integers(conn):
    for query_id, slugs in (("q1", '["a", "b"]'), ("q2", '["a"]')):
        conn.execute("INSERT INTO suggest_queries (id, api_key_id, message_chars, focused, slugs, took_ms) "
                     "VALUES (?, NULL, 10, 'refund', ?, 1.5)", (query_id, slugs))
    assist.record_feedback(conn, "q1", "a", True, None)
    assist.record_feedback(conn, "q1", "a", False, None)  # a later verdict replaces the first
    assist.record_feedback(conn, "q1", "b", True, None)
    assist.record_feedback(conn, "q2", "a", False, None)
    assert conn.execute("SELECT COUNT(*) FROM suggest_feedback").fetchone()[0] == 3
    assert agent_feedback(conn, 30) == [{"slug": "a", "useful": 0, "not_useful": 2, "total": 2},
                                        {"slug": "b", "useful": 1, "not_useful": 0, "total": 1}]


def test_contact_deflection_counts_the_articles_that_answered(database):
    store = ContactStore(database)
    first = store.start_ask("refund?", "en", "site", ["b", "a", "c"])
    store.record_open(first, "b")
    store.record_open(first, "a")
    second = store.start_ask("refund again", "en", "widget", ["a"])
    store.record_open(second, "a")
    sent = store.start_ask("still stuck", "en", "site", ["c"])
    store.record_open(sent, "c")
    message_id = store.submit(sent, "Sam", "sam@example.com", "Help", "en", "site", [{"slug": "c"}])
    assert isinstance(message_id, int) and store.message(message_id).email == "sam@example.com"

    report = store.deflection(days=None)
    assert (report.asked, report.answered, report.sent, report.pending) == (3, 2, 1, 1)
    assert report.top_articles == (("a", 2), ("b", 1))  # c answered nobody: its visitor still wrote
    assert store.status_counts() == {"pending": 1}


# -- upserts and RETURNING ----------------------------------------------------------------------


def test_redirect_chains_collapse_and_a_redirect_is_replaced(conn):
    redirects.add(conn, "/a", "/b")
    redirects.add(conn, "/b", "/c")
    assert redirects.all_redirects(conn) == [("/a", "/c"), ("/b", "/c")]
    redirects.add(conn, "/b", "/d")  # ON CONFLICT (old_path) DO UPDATE
    assert redirects.target(conn, "/b") == "/d"
    assert SECONDS.match(conn.execute("SELECT created_at FROM redirects WHERE old_path = '/b'").fetchone()[0])


def test_widget_origin_added_twice_is_new_once(conn):
    origins = WidgetOrigins(conn)
    assert origins.add("https://Shop.Example.com/cart", "shop") == ("https://shop.example.com", True)
    assert origins.add("https://shop.example.com", "again") == ("https://shop.example.com", False)
    assert [row["note"] for row in origins.all()] == ["shop"]
    assert origins.allows("https://shop.example.com") and origins.remove("https://shop.example.com")


def test_revisions_and_trash_ids_come_back_from_the_insert(conn):
    published = revisions.add(conn, "refund", "published", "v1")
    pending = revisions.add(conn, "refund", "pending", "v2", note="later")
    assert pending.id > published.id and pending.note == "later" and MILLISECONDS.match(pending.created_at)
    assert revisions.pending(conn, "refund") == pending and revisions.slugs_with_pending(conn) == {"refund"}
    revisions.add(conn, "refund", "discarded", "v1")
    assert revisions.pending(conn, "refund") is None and revisions.previous(conn, pending) == published


def test_keys_links_and_sessions(conn, monkeypatch):
    monkeypatch.setattr(apikeys.secrets, "token_urlsafe", lambda size: "AbCdEfGh" + "x" * 35)
    key, secret = apikeys.create_key(conn, "helpdesk", rate_limit=60)
    assert (key.prefix, key.rate_limit, key.active) == ("kb_AbCdEfGh", 60, True) and SECONDS.match(key.created_at)
    assert apikeys.find_key(conn, "kb_AbCd").id == key.id
    with pytest.raises(KbError):
        apikeys.find_key(conn, "kb_abcd")  # a prefix is base64url: case matters on both backends
    assert apikeys.verify_key(conn, secret).id == key.id
    assert apikeys.revoke_key(conn, str(key.id)).active is False

    link, token = panel_links.create_link(conn, "desk", "https://desk.example.com", "secret")
    assert isinstance(link.id, int) and panel_links.verify_token(conn, token, "secret").id == link.id

    user = users.create_user(conn, "s@example.com", PASSWORD, "editor")
    session_id = staff_sessions.start(conn, user.id)
    assert staff_sessions.user_id_for(conn, session_id) == user.id and staff_sessions.count(conn, user.id) == 1
    assert staff_sessions.end_all(conn, user.id) == 1 and staff_sessions.user_id_for(conn, session_id) is None


# -- NUL characters: PostgreSQL's text cannot hold one --------------------------------------------


def test_text_with_nul_characters_is_cleaned_or_matches_nothing(database, conn, fast):
    """What a visitor or client sends may hold a NUL (%00): it is dropped from what is stored and
    matches nothing when looked up, on both backends (PostgreSQL would refuse the statement)."""
    search_id = Analytics(database).record_search("re\x00fund", 1, category="a\x00b")
    row = conn.execute("SELECT query, category FROM searches WHERE id = ?", (search_id,)).fetchone()
    assert (row["query"], row["category"]) == ("refund", "ab")
    with pytest.raises(KbError) as caught:
        users.authenticate(conn, "a\x00@example.com", "x", "client")
    assert caught.value.code == "bad_credentials"
    assert users.find_user(conn, "nobody\x00@example.com") is None
    assert redirects.target(conn, "/articles/a\x00") is None
    assert apikeys.verify_key(conn, "kb_" + "\x00" * 20) is None
    for record_feedback, owner in ((assist.record_feedback, None), (panel_links.record_feedback, 1)):
        with pytest.raises(KbError) as caught:
            record_feedback(conn, "q\x00", "a", True, owner)
        assert caught.value.status == 404
    with pytest.raises(KbError):
        parse_origin("https://shop\x00.example.com")


# -- transactions --------------------------------------------------------------------------------


def test_an_audit_entry_that_fails_inside_a_transaction_does_not_undo_it(conn, caplog):
    """On PostgreSQL a failed statement aborts its whole transaction; the audit entry's savepoint
    keeps the action's own writes."""
    with conn.transaction():
        redirects.add(conn, "/x", "/y")
        audit.record(conn, None, "target")  # action is NOT NULL: refused on both backends
        redirects.add(conn, "/z", "/w")
    assert redirects.all_redirects(conn) == [("/x", "/y"), ("/z", "/w")]
    assert "could not write the audit log entry" in caplog.text
    audit.record(conn, "sign_in", "a@example.com")
    assert [entry.action for entry in audit.entries(conn)] == ["sign_in"]
    assert SECONDS.match(audit.entries(conn)[0].created_at)


def test_brand_saves_at_once_each_get_their_own_version(database):
    """Four saves from four threads (four connections): versions 1 to 4, none written twice."""
    start = threading.Barrier(4)
    versions, errors = [], []

    def save(number: int) -> None:
        try:
            start.wait()
            versions.append(BrandStore(database.connection()).save(Brand(site_names={"en": f"Site {number}"})).version)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and sorted(versions) == [1, 2, 3, 4]
    assert BrandStore(database.connection()).load().version == 4


def test_two_admins_disabling_each_other_at_once_leave_one_admin(database, fast):
    """Two processes (here two threads, two connections) each see "another admin is left" unless
    the check and the change are one serialized transaction."""
    conn = database.connection()
    first = users.create_user(conn, "first@example.com", PASSWORD, "admin")
    second = users.create_user(conn, "second@example.com", PASSWORD, "admin")
    start = threading.Barrier(2)
    refused = []

    def disable(target, actor) -> None:
        start.wait()
        try:
            users.set_active(database.connection(), target.id, False, actor=actor)
        except KbError as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=disable, args=pair) for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == ["last_admin"]
    assert [u.active for u in users.list_users(conn)].count(True) == 1


# -- the subset holds everywhere ------------------------------------------------------------------

# SQLite-only spellings, and what the portable subset (kb/store/db.py) writes instead.
_NOT_PORTABLE = {
    r"(?i)\bINSERT\s+OR\s+(IGNORE|REPLACE)\b|\bREPLACE\s+INTO\b": "INSERT ... ON CONFLICT (...) DO NOTHING / DO UPDATE",
    r"(?i)\bstrftime\s*\(|\b(datetime|date|julianday)\s*\(\s*'now'": "a utc_timestamp() parameter",
    r"(?m)^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)\b": "with conn.transaction():",  # SQL's capitals only
    r"(?i)\bPRAGMA\s+\w": "nothing outside kb/store/db.py and kb/store/sqlite.py",
    r"(?i)\b(json_each|json_extract|GROUP_CONCAT|IFNULL|instr)\s*\(": "COALESCE, or Python over the rows",
    r"(?i)\bCOLLATE\s+NOCASE\b": "values stored in one case (kb.store.users.normalize_email)",
    r"(?i)\bLIMIT\s+-1\b": "no LIMIT",
}
# The database layer itself (the façade and its SQLite driver module), and the local caches,
# which stay SQLite on purpose: the embedding cache, and the question readings a server's
# worker processes share (a file in a temporary folder of one machine, never the database).
_SQLITE_ON_PURPOSE = {"kb/store/db.py", "kb/store/sqlite.py", "kb/search/cache.py", "kb/search/shared_readings.py"}


def _code_strings(tree):
    """String constants of a module, docstrings left out; f-strings by their literal parts."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_module_writes_sqlite_only_sql():
    """Every statement outside kb/store/db.py runs unchanged on both databases (h18: the portable
    subset): no SQLite-only spelling in any string of kb, no ``cursor.lastrowid``."""
    root = Path(kb.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).as_posix()
        if relative in _SQLITE_ON_PURPOSE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, text in _code_strings(tree):
            for pattern, instead in _NOT_PORTABLE.items():
                if re.search(pattern, text):
                    found.append(f"{relative}:{line}: {text.strip()[:60]!r}: use {instead}")
        found += [f"{relative}:{node.lineno}: cursor.lastrowid: use INSERT ... RETURNING id"
                  for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "lastrowid"]
    assert not found, "\n".join(found)

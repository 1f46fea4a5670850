"""kb.store.users: accounts, password hashing, throttled sign-in, and the ``kb user`` commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kb.store import audit
from kb.store import staff_sessions
from kb.store import users
from kb.cli import cli
from kb.store.db import Database
from kb.errors import KbError


@pytest.fixture
def db(database_url):
    return Database(database_url).connection()


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(users, "PASSWORD_METHOD", "scrypt:1024:8:1")


def test_passwords_are_hashed_with_strong_scrypt(db):
    user = users.create_user(db, "a@example.com", "correct horse battery", "editor")
    stored = db.execute("SELECT password_hash FROM staff_users WHERE id = ?", (user.id,)).fetchone()[0]
    assert stored.startswith("scrypt:32768:8:3$") and "correct horse" not in stored
    assert users.authenticate(db, "A@Example.com", "correct horse battery", "client").id == user.id


@pytest.mark.parametrize(("email", "password", "role", "code"), [
    ("not-an-email", "long enough password", "editor", "bad_email"),
    ("b@example.com", "short", "editor", "weak_password"),
    ("b@example.com", "long enough password", "owner", "bad_role"),
])
def test_create_user_validates(db, fast, email, password, role, code):
    with pytest.raises(KbError) as caught:
        users.create_user(db, email, password, role)
    assert caught.value.code == code


def test_passwords_need_twelve_characters(db, fast):
    """ASVS 2.1.1: at least 12 characters; the message says how many there were and the minimum."""
    assert users.MIN_PASSWORD_CHARS == 12
    with pytest.raises(KbError) as caught:
        users.create_user(db, "a@example.com", "elevenchars", "editor")
    assert caught.value.code == "weak_password" and caught.value.field == "password"
    assert "11" in caught.value.message and "12" in caught.value.message
    user = users.create_user(db, "a@example.com", "twelve chars", "editor")
    with pytest.raises(KbError):
        users.set_password(db, user.id, "x" * 11)
    assert users.set_password(db, user.id, "كلمة مرور طويلة").id == user.id


def test_emails_are_unique_ignoring_case(db, fast):
    users.create_user(db, "a@example.com", "long enough password", "editor")
    with pytest.raises(KbError) as caught:
        users.create_user(db, "A@EXAMPLE.com", "long enough password", "admin")
    assert caught.value.status == 409


def test_wrong_password_unknown_email_and_disabled_account_are_refused_alike(db, fast):
    admin = users.create_user(db, "admin@example.com", "long enough password", "admin")
    user = users.create_user(db, "a@example.com", "long enough password", "editor")
    users.set_active(db, user.id, False, actor=admin)
    for email, password in [("admin@example.com", "wrong password!!"), ("nobody@example.com", "x"),
                            ("a@example.com", "long enough password")]:
        with pytest.raises(KbError) as caught:
            users.authenticate(db, email, password, "client")
        assert (caught.value.status, caught.value.code) == (401, "bad_credentials")
    actions = [e.action for e in audit.entries(db)]
    assert actions.count("sign_in_failed") == 3 and "user_disabled" in actions


def test_sign_in_is_throttled_after_repeated_failures(db, fast):
    """GIVEN five wrong passwords for one address WHEN the right one comes THEN it is refused (429)
    until the window has passed; other addresses are unaffected."""
    users.create_user(db, "a@example.com", "long enough password", "editor")
    users.create_user(db, "b@example.com", "long enough password", "editor")
    now = 1_000_000.0
    for i in range(users.MAX_FAILURES_PER_EMAIL):
        with pytest.raises(KbError):
            users.authenticate(db, "a@example.com", f"wrong {i}", f"client-{i}", now=now + i)
    with pytest.raises(KbError) as caught:
        users.authenticate(db, "a@example.com", "long enough password", "client-x", now=now + 10)
    assert caught.value.status == 429 and caught.value.retry_after > 0
    assert users.authenticate(db, "b@example.com", "long enough password", "client-x", now=now + 10)
    later = now + users.THROTTLE_WINDOW + 10
    assert users.authenticate(db, "a@example.com", "long enough password", "client-x", now=later)


def test_one_client_trying_many_addresses_is_throttled(db, fast):
    users.create_user(db, "a@example.com", "long enough password", "editor")
    for i in range(users.MAX_FAILURES_PER_CLIENT):
        with pytest.raises(KbError):
            users.authenticate(db, f"guess{i}@example.com", "x", "attacker", now=1000.0 + i)
    with pytest.raises(KbError) as caught:
        users.authenticate(db, "a@example.com", "long enough password", "attacker", now=1100.0)
    assert caught.value.status == 429
    assert users.authenticate(db, "a@example.com", "long enough password", "office", now=1100.0)


def test_password_reset_role_change_and_disable_end_every_session(db, fast):
    """GIVEN two live sessions of a user WHEN an admin changes the password, the role, or
    disables the account THEN both sessions are gone; other users' sessions stay."""
    admin = users.create_user(db, "admin@example.com", "long enough password", "admin")
    user = users.create_user(db, "a@example.com", "long enough password", "editor")
    admin_session = staff_sessions.start(db, admin.id)
    changes = [
        lambda: users.set_password(db, user.id, "another long password", actor=admin),
        lambda: users.set_role(db, user.id, "admin", actor=admin),
        lambda: users.set_active(db, user.id, False, actor=admin),
    ]
    for change in changes:
        sessions = [staff_sessions.start(db, user.id), staff_sessions.start(db, user.id)]
        assert [staff_sessions.user_id_for(db, s) for s in sessions] == [user.id, user.id]
        change()
        assert [staff_sessions.user_id_for(db, s) for s in sessions] == [None, None]
        assert staff_sessions.count(db, user.id) == 0
    assert staff_sessions.user_id_for(db, admin_session) == admin.id
    assert not users.get_user(db, user.id).active


def test_a_session_is_refused_once_expired_or_ended_and_only_its_hash_is_stored(db, fast):
    user = users.create_user(db, "a@example.com", "long enough password", "editor")
    session_id = staff_sessions.start(db, user.id, hours=1, now=1000.0)
    assert staff_sessions.user_id_for(db, session_id, now=1000.0 + 3599) == user.id
    assert staff_sessions.user_id_for(db, session_id, now=1000.0 + 3600) is None
    stored = [row[0] for row in db.execute("SELECT id_hash FROM staff_sessions")]
    assert stored and session_id not in stored
    live = staff_sessions.start(db, user.id)
    assert staff_sessions.count(db, user.id) == 1  # the expired row was purged
    staff_sessions.end(db, live)
    assert staff_sessions.user_id_for(db, live) is None
    for bogus in (None, "", 42, ["x"], "not-a-session"):
        assert staff_sessions.user_id_for(db, bogus) is None


def test_the_last_active_admin_cannot_be_removed(db, fast):
    admin = users.create_user(db, "admin@example.com", "long enough password", "admin")
    with pytest.raises(KbError):
        users.set_active(db, admin.id, False)
    with pytest.raises(KbError):
        users.set_role(db, admin.id, "editor")
    with pytest.raises(KbError):  # nor yourself
        other = users.create_user(db, "other@example.com", "long enough password", "admin")
        users.set_active(db, other.id, False, actor=other)


# -- the kb user commands ------------------------------------------------------------------------


def run(tmp_path, *args, input=None):
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "user", *args], input=input)


def test_cli_create_list_disable_enable_reset(tmp_path, fast):
    result = run(tmp_path, "create", "boss@example.com", "--role", "admin", "--password-stdin",
                 input="a long admin password\n")
    assert result.exit_code == 0, result.output
    assert "created admin boss@example.com" in result.output
    assert run(tmp_path, "create", "ed@example.com", "--password-stdin", input="editor password 1\n").exit_code == 0
    listing = run(tmp_path, "list").output
    assert "boss@example.com\tadmin\tactive" in listing and "ed@example.com\teditor\tactive" in listing
    assert run(tmp_path, "disable", "ed@example.com").exit_code == 0
    assert "ed@example.com\teditor\tdisabled" in run(tmp_path, "list").output
    assert run(tmp_path, "enable", "ed@example.com").exit_code == 0
    assert run(tmp_path, "reset-password", "ed@example.com", "--password-stdin", input="new editor password\n").exit_code == 0
    db = Database(tmp_path / "data" / "kb.sqlite3").connection()
    assert users.authenticate(db, "ed@example.com", "new editor password", "c").role == "editor"


def test_cli_prompts_for_the_password_twice(tmp_path, fast):
    result = run(tmp_path, "create", "ed@example.com", input="editor password 1\neditor password 1\n")
    assert result.exit_code == 0, result.output
    mismatch = run(tmp_path, "create", "ed2@example.com",
                   input="editor password 1\nsomething else\neditor password 2\neditor password 2\n")
    assert mismatch.exit_code == 0 and "match" in mismatch.output


def test_cli_errors_are_messages_not_tracebacks(tmp_path, fast):
    weak = run(tmp_path, "create", "ed@example.com", "--password-stdin", input="short\n")
    assert weak.exit_code == 1 and "12" in weak.output and "Traceback" not in weak.output
    missing = run(tmp_path, "disable", "nobody@example.com")
    assert missing.exit_code == 1 and "no user" in missing.output


def test_a_database_from_before_server_side_sessions_upgrades_with_its_accounts(tmp_path, fast, empty_database_url):
    """GIVEN a database migrated up to 0003 (sessions in the cookie, session_version column)
    WHEN kb starts with 0004 THEN the accounts are kept, the old column is gone, sessions work."""
    import shutil

    from kb.store.db import connect
    from kb.store.db import table_columns
    from kb.store.migrate import MIGRATIONS_DIR
    from kb.store.migrate import migrate

    old = tmp_path / "migrations-0003"
    old.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("000[123]_*.sql")):
        shutil.copy(path, old / path.name)
    connection = connect(empty_database_url)
    migrate(connection, old)
    connection.execute("INSERT INTO staff_users (email, password_hash, role, session_version) VALUES ('a@example.com', 'x', 'admin', 7)")
    assert "0004_staff_sessions" in migrate(connection)
    columns = set(table_columns(connection, "staff_users"))
    assert "session_version" not in columns and "email" in columns
    user = users.find_user(connection, "a@example.com")
    assert user.role == "admin" and staff_sessions.user_id_for(connection, staff_sessions.start(connection, user.id)) == user.id

"""`kb db upgrade` and `kb db check`, on SQLite and PostgreSQL, and database_url in the settings."""

from __future__ import annotations


import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.config import load_settings
from kb.errors import KbError
from kb.store import db as kbdb
from kb.store import migrate as kbmigrate
from kb.store.db import Database

MIGRATIONS = [path.stem for path in kbmigrate.migration_files()]


pytestmark = pytest.mark.usefixtures("no_kb_environment")


def kb_db(tmp_path, url: str, *args: str):
    env = {"KB_DATABASE_URL": url} if url else {}
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "db", *args], env=env, catch_exceptions=False)


def test_check_lists_pending_then_upgrade_applies_them_once(tmp_path, empty_database_url):
    before = kb_db(tmp_path, empty_database_url, "check")
    assert before.exit_code == 1
    assert all(f"pending: {name}" in before.output for name in MIGRATIONS)
    assert "kb db upgrade" in before.output  # the fix is in the message

    upgraded = kb_db(tmp_path, empty_database_url, "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert [line.split(": ", 1)[1] for line in upgraded.output.splitlines() if line.startswith("applied: ")] == MIGRATIONS
    assert "up to date" in upgraded.output

    again = kb_db(tmp_path, empty_database_url, "upgrade")
    assert again.exit_code == 0 and "applied: " not in again.output

    after = kb_db(tmp_path, empty_database_url, "check")
    assert after.exit_code == 0, after.output
    assert "pending: " not in after.output and after.output.rstrip().endswith("up to date")
    assert all(f"applied: {name}" in after.output for name in MIGRATIONS)


def test_default_is_the_sqlite_file_in_data_dir(tmp_path):
    result = kb_db(tmp_path, "", "upgrade")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "kb.sqlite3").exists()
    assert "(sqlite)" in kb_db(tmp_path, "", "check").output


def test_check_names_a_database_newer_than_this_kb(tmp_path, database_url):
    conn = Database(database_url).connection()
    conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_from_the_future', ?)", (kbdb.utc_timestamp(),))
    result = kb_db(tmp_path, database_url, "check")
    assert result.exit_code == 0
    assert "9999_from_the_future is applied but unknown to this version" in result.output


def test_unreachable_server_is_a_clear_error_without_the_password(tmp_path, pg_server):
    from pg_cluster import free_port

    url = f"postgresql://kb:hunter2@127.0.0.1:{free_port()}/kb"
    for command in ("check", "upgrade"):
        result = kb_db(tmp_path, url, command)
        assert result.exit_code == 1
        assert "cannot connect to PostgreSQL at postgresql://kb:***@127.0.0.1" in result.output
        assert "database_url" in result.output and "hunter2" not in result.output
        assert "Traceback" not in result.output


def test_user_commands_use_database_url(tmp_path, pg_url):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "user", "create", "a@example.com",
                                      "--role", "admin", "--password-stdin"], input="a-long-password-1\n",
                                env={"KB_DATABASE_URL": pg_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "data" / "kb.sqlite3").exists()
    rows = Database(pg_url).connection().execute("SELECT email, role FROM staff_users").fetchall()
    assert [tuple(row) for row in rows] == [("a@example.com", "admin")]


@pytest.mark.parametrize("url", ["postgresql://kb@db:5432/kb", "postgres://kb@db/kb", "sqlite:////var/lib/kb/kb.sqlite3", ""])
def test_database_url_setting_accepts(url):
    assert load_settings({"database_url": url}, environ={}).database_url == url


@pytest.mark.parametrize("url", ["mysql://kb:secret@db/kb", "kb:secret@db/kb", "sqlite://relative"])
def test_database_url_setting_refuses_other_schemes_without_echoing_them(url):
    with pytest.raises(KbError) as raised:
        load_settings({"database_url": url}, environ={})
    assert raised.value.field == "database_url"
    assert "postgresql://" in str(raised.value) and "secret" not in str(raised.value)


def test_settings_pick_the_backend(tmp_path):
    sqlite = Database.from_settings(load_settings({"data_dir": tmp_path / "data"}, environ={}))
    assert (sqlite.dialect, sqlite.path) == ("sqlite", tmp_path / "data" / "kb.sqlite3")
    settings = load_settings({"data_dir": tmp_path, "database_url": "postgresql://kb@db/kb"}, environ={})
    assert Database.from_settings(settings, migrate=False).dialect == "postgresql"

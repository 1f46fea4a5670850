"""API keys: storage (hash only), verification, revocation, and the `kb apikey` commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kb.store.apikeys import KEY_PREFIX
from kb.store.apikeys import create_key
from kb.store.apikeys import find_key
from kb.store.apikeys import hash_key
from kb.store.apikeys import list_keys
from kb.store.apikeys import revoke_key
from kb.store.apikeys import verify_key
from kb.cli import cli
from kb.store.db import Database
from kb.errors import KbError


@pytest.fixture
def db(database_url):
    return Database(database_url).connection()


def test_created_key_is_random_and_only_its_hash_is_stored(db):
    first, secret = create_key(db, "helpdesk")
    _, other = create_key(db, "helpdesk")
    assert secret.startswith(KEY_PREFIX) and len(secret) >= 40 and secret != other
    row = db.execute("SELECT * FROM api_keys WHERE id = ?", (first.id,)).fetchone()
    assert row["key_hash"] == hash_key(secret)
    assert secret not in [str(value) for value in tuple(row)]
    assert secret.startswith(row["prefix"]) and len(row["prefix"]) < len(secret) // 3


def test_verify_accepts_the_key_and_rejects_others(db):
    stored, secret = create_key(db, "helpdesk", rate_limit=30)
    key = verify_key(db, secret)
    assert key is not None and key.id == stored.id and key.rate_limit == 30
    assert verify_key(db, secret + "x") is None
    assert verify_key(db, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert verify_key(db, "") is None
    assert verify_key(db, "not-a-kb-key") is None


def test_verify_records_last_use(db):
    stored, secret = create_key(db, "helpdesk")
    assert stored.last_used_at is None
    verify_key(db, secret)
    assert find_key(db, str(stored.id)).last_used_at is not None


def test_revoked_key_no_longer_verifies(db):
    stored, secret = create_key(db, "helpdesk")
    revoked = revoke_key(db, stored.prefix)
    assert revoked.revoked_at is not None and not revoked.active
    assert verify_key(db, secret) is None
    assert revoke_key(db, str(stored.id)).revoked_at == revoked.revoked_at  # revoking twice keeps the date


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_key_needs_a_reasonable_name(db, name):
    with pytest.raises(KbError):
        create_key(db, name)


def test_unknown_key_cannot_be_revoked(db):
    with pytest.raises(KbError) as error:
        revoke_key(db, "999")
    assert error.value.code == "unknown_key"


def test_cli_create_list_revoke(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path / "data")]
    created = runner.invoke(cli, [*base, "apikey", "create", "--name", "Zendesk", "--rate-limit", "300"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith(KEY_PREFIX) and "\n" not in secret

    db = Database(tmp_path / "data" / "kb.sqlite3").connection()
    assert verify_key(db, secret) is not None

    listed = runner.invoke(cli, [*base, "apikey", "list"])
    assert listed.exit_code == 0
    assert "Zendesk" in listed.output and "active" in listed.output and secret[:11] in listed.output
    assert secret not in listed.output

    key_id = str(list_keys(db)[0].id)
    revoked = runner.invoke(cli, [*base, "apikey", "revoke", key_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert verify_key(db, secret) is None
    assert "revoked" in runner.invoke(cli, [*base, "apikey", "list"]).output


def test_cli_revoke_unknown_key_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "apikey", "revoke", "kb_nothere"])
    assert result.exit_code == 1
    assert "kb apikey list" in result.output
    assert "Traceback" not in result.output

"""kb behind PgBouncer in session pooling mode, as docs/deploy.md says to run it.

A real PgBouncer (Debian's package, installed by scripts/setup.sh --test) in front of the
session's PostgreSQL cluster, and the replication tests that lean on a session re-run
through it: the applier's LISTEN (a notification must reach the listening node, not just
the poll), the publish lock (an advisory lock held across statements), the first node's
seeding and the lag report.  Transaction pooling is not supported and not tested (docs/deploy.md).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from pg_cluster import as_postgres
from pg_cluster import free_port

# The tests below are the replication tests themselves, collected here a second time with this
# module's `database_url` (a database reached through PgBouncer); `cluster` is their fixture.
from test_replication import cluster  # noqa: F401 - fixture
from test_replication import test_a_publish_on_one_node_is_found_on_the_other  # noqa: F401
from test_replication import test_concurrent_saves_of_one_article_on_two_nodes  # noqa: F401
from test_replication import test_health_reports_the_lag  # noqa: F401
from test_replication import test_seeded_once_by_the_first_node  # noqa: F401

from kb.store.db import Database

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@pytest.fixture(scope="module")
def bouncer(pg_server, tmp_path_factory) -> int:
    """A PgBouncer in session pooling mode in front of the session's cluster; its port."""
    if not Path(PGBOUNCER).exists():
        pytest.fail("PgBouncer is not installed: scripts/setup.sh --test installs Debian's pgbouncer", pytrace=False)
    root = tmp_path_factory.mktemp("pgbouncer")
    port = free_port()
    (root / "users.txt").write_text(f'"{pg_server.user}" ""\n', encoding="utf-8")
    (root / "pgbouncer.ini").write_text(f"""[databases]
* = host={pg_server.host} port={pg_server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root / "users.txt"}
pool_mode = session
max_client_conn = 500
default_pool_size = 100
logfile = {root / "pgbouncer.log"}
pidfile = {root / "pgbouncer.pid"}
""", encoding="utf-8")
    process = subprocess.Popen([PGBOUNCER, str(root / "pgbouncer.ini")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, **as_postgres(root))
    deadline = time.monotonic() + 30
    while not _accepts(port):
        if process.poll() is not None or time.monotonic() > deadline:
            log = (root / "pgbouncer.log").read_text(errors="replace") if (root / "pgbouncer.log").exists() else ""
            process.kill()
            pytest.fail(f"PgBouncer did not start: {process.stderr.read().decode(errors='replace')}\n{log[-2000:]}")
        time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def database_url(pg_server, pg_template, bouncer) -> str:
    """A new database with kb's schema, reached through PgBouncer (dropped after the test)."""
    direct = pg_server.new_database(pg_template)
    yield direct.replace(f":{pg_server.port}/", f":{bouncer}/")
    pg_server.drop_database(direct)


def test_the_connection_goes_through_pgbouncer(database_url, pg_server, bouncer):
    """The URL the replication tests get here is PgBouncer's: kb connects to its port, and the
    server the queries reach is the cluster's (PgBouncer forwards them)."""
    assert f":{bouncer}/" in database_url and bouncer != pg_server.port
    database = Database(database_url)
    try:
        connection = database.connection()
        assert connection.execute("SELECT inet_server_port() AS port").fetchone()["port"] == pg_server.port
    finally:
        database.close()

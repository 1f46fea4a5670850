"""A throw-away PostgreSQL cluster for the tests: initdb + pg_ctl in a temporary folder, on a free port.

One cluster per test session (``PgCluster.start``), one database per test that asks for one:
``new_database()`` copies a template (``CREATE DATABASE ... TEMPLATE``: 60-75 ms on the shared
test machine) that was migrated once, so a test pays neither for migrations nor for a server
start.  A background thread keeps two copies of each template in use ready, and another drops
the databases tests are done with, so neither is on a test's clock.  When the
tests run as root the cluster runs as the ``postgres`` OS user (PostgreSQL refuses to run as
root).  The cluster trades durability for speed (fsync off): it is deleted with the session.

Nothing here is kb-specific except ``migrated_template``; scripts can use it too
(``python tests/pg_cluster.py`` starts one and prints its URL until Ctrl-C).
"""

from __future__ import annotations

import itertools
import os
import pwd
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

PG_VERSIONS = ("17", "16", "15", "14", "13")  # Debian's postgresql-NN packages, newest first


class PgUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says what to install or fix."""


def find_bin_dir() -> Path:
    """The folder holding initdb/pg_ctl: $KB_PG_BIN, Debian's /usr/lib/postgresql/NN/bin, or PATH."""
    explicit = os.environ.get("KB_PG_BIN")
    if explicit:
        if not (Path(explicit) / "initdb").exists():
            raise PgUnavailable(f"KB_PG_BIN is {explicit}, which holds no initdb: point it at PostgreSQL's bin folder "
                                f"(Debian: /usr/lib/postgresql/NN/bin) or unset it")
        return Path(explicit)
    for version in PG_VERSIONS:
        candidate = Path("/usr/lib/postgresql") / version / "bin"
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PgUnavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed: run "
                        "`scripts/setup.sh --test` (it installs Debian's postgresql package), or set KB_PG_BIN "
                        "to the folder that holds initdb.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(folder: Path) -> dict:
    """subprocess arguments that drop root to the postgres user, who gets `folder` (initdb and
    PgBouncer refuse to run as root); nothing when not root."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PgUnavailable("running as root and there is no `postgres` user to run PostgreSQL as: install "
                            "Debian's postgresql package (scripts/setup.sh --test) or run the tests as "
                            "another user.") from None
    for path in (folder, *folder.parents):
        if path == Path(tempfile.gettempdir()).parent or path == Path("/"):
            break
        os.chmod(path, os.stat(path).st_mode | 0o711)  # postgres must reach its folder
    os.chown(folder, account.pw_uid, account.pw_gid)

    def demote():
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return {"preexec_fn": demote, "env": {**os.environ, "HOME": str(folder)}}


@dataclass
class PgCluster:
    """A running cluster: ``url(name)`` for a database, ``new_database()`` for a fresh one."""

    root: Path
    bin_dir: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "kb"
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _spares: dict = field(default_factory=dict)         # template -> Queue of ready copies
    _to_drop: queue.Queue = field(default_factory=queue.Queue)
    _dropper: threading.Thread | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    @classmethod
    def start(cls, root: Path | None = None, bin_dir: Path | None = None) -> "PgCluster":
        bin_dir = bin_dir or find_bin_dir()
        root = Path(root or tempfile.mkdtemp(prefix="kb-pg-"))
        root.mkdir(parents=True, exist_ok=True)
        cluster = cls(root=root, bin_dir=bin_dir, port=free_port())
        cluster._initdb()
        cluster._pg_ctl("start", "-w", "-t", "60", "-l", str(root / "server.log"),
                        "-o", f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1")
        return cluster

    def _as_postgres(self) -> dict:
        """subprocess arguments that drop root to the postgres user (initdb refuses root)."""
        return as_postgres(self.root)

    def _run(self, *args: str) -> None:
        try:
            result = subprocess.run(args, capture_output=True, text=True, **self._as_postgres())
        except OSError as exc:
            raise PgUnavailable(f"cannot run {args[0]}: {exc}") from exc
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PgUnavailable(f"{Path(args[0]).name} failed ({result.returncode}): "
                                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}")

    def _initdb(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# kb tests: a throw-away cluster\nfsync = off\nsynchronous_commit = off\n"
                       "full_page_writes = off\nmax_connections = 300\nshared_buffers = 32MB\n")

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args)

    def admin(self):
        """An autocommit connection to the maintenance database."""
        import psycopg

        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create_database(self, name: str, template: str = "template0") -> str:
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return self.url(name)

    def _copy(self, template: str) -> str:
        with self._lock:
            name = f"test_{next(self._counter)}"
        return self.create_database(name, template)

    def new_database(self, template: str = "template0") -> str:
        """A new database copied from ``template`` (default: empty); returns its URL.

        The first call for a template starts a thread that keeps two copies of it ready."""
        with self._lock:
            spares = self._spares.get(template)
            if spares is None:
                spares = self._spares[template] = queue.Queue(maxsize=2)
                threading.Thread(target=self._keep_ready, args=(template, spares), daemon=True).start()
                spares = None
        if spares is None:
            return self._copy(template)
        ready = spares.get(timeout=120)
        if isinstance(ready, BaseException):
            raise PgUnavailable(f"copying the template database {template} failed: {ready}") from ready
        return ready

    def _keep_ready(self, template: str, spares: queue.Queue) -> None:
        while True:
            try:
                ready = self._copy(template)
            except BaseException as exc:  # handed to the test that waits for the copy
                spares.put(exc)
                return
            spares.put(ready)

    def drop_database(self, url: str) -> None:
        """Drop the database ``url`` names, ending the connections still open to it (in the
        background: the next test need not wait)."""
        with self._lock:
            if self._dropper is None:
                self._dropper = threading.Thread(target=self._drop_queued, daemon=True)
                self._dropper.start()
        self._to_drop.put(url.rsplit("/", 1)[1])

    def _drop_queued(self) -> None:
        while True:
            name = self._to_drop.get()
            try:
                with self.admin() as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:  # noqa: BLE001 - a leftover database goes with the cluster at the end
                pass

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def migrated_template(cluster: PgCluster, name: str = "kb_template") -> str:
    """A database with every kb migration applied, to copy per test; returns its name."""
    from kb.store.db import Database

    url = cluster.create_database(name)
    Database(url).close()  # CREATE DATABASE ... TEMPLATE needs the template without connections
    return name


if __name__ == "__main__":
    cluster = PgCluster.start()
    print(cluster.url(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        cluster.stop()

"""``kb backup FILE`` / ``kb restore FILE``: the database, the articles and the settings in one
archive, taken while the site serves, restorable into either database.

The archive's format (its members, the manifest, the checks) is kb.backup_archive, reading and
loading the tables in each database's dialect kb.backup_tables; this module takes and
restores one.  The content is portable, so a backup of a SQLite install restores
into PostgreSQL (how a team moves to several machines) and back:

- the tables are all read from ONE snapshot: SQLite's backup API copies the file page by
  page into a temporary copy (writers go on meanwhile; the copy is one consistent moment),
  PostgreSQL reads every table in one REPEATABLE READ, READ ONLY transaction;
- the articles: when the database holds them (kb.store.changes, cluster mode), the files
  are written from the SAME snapshot, so articles and revisions agree; otherwise the
  articles folder is copied, and the snapshot taken, under the publish lock (no editor
  write can fall between the two);
- the settings: kb.toml and the secret key (data_dir's file; on PostgreSQL the key is a
  row of ``shared_secrets``, in the tables).

A restore checks the archive before touching anything (kb.backup_archive.read_archive),
refuses a target that already has content unless ``force`` (then the old SQLite file and
articles folder are moved aside, never deleted), creates the schema as the archive's
migrations left it, loads the rows, applies the newer migrations, writes the articles and
the secret key, and rebuilds the index.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kb.backup_archive import ArchiveWriter
from kb.backup_archive import FORMAT
from kb.backup_archive import VERSION
from kb.backup_archive import read_archive
from kb.backup_tables import dump_tables
from kb.backup_tables import load_rows
from kb.backup_tables import snapshot
from kb.backup_tables import table_names
from kb.config import Settings
from kb.config import config_path
from kb.errors import KbError
from kb.fsutil import atomic_write_bytes
from kb.fsutil import atomic_write_text
from kb.fsutil import stale_temp_files
from kb.serving_marker import without_a_server
from kb.store import changes
from kb.store.db import Connection
from kb.store.db import Database
from kb.store.db import utc_timestamp
from kb.store.migrate import migrate
from kb.store.migrate import migration_files
from kb.store.secrets import SECRET_KEY
from kb.store.secrets import set_shared_secret
from kb.translation import N_

@dataclass(frozen=True)
class BackupReport:
    path: Path
    tables: int
    rows: int
    files: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    created_at: str
    source: str
    tables: int
    rows: int
    files: int
    articles: int
    seconds: float


# -- the collection's files ------------------------------------------------------------------------


def _collection_files(conn: Connection) -> dict[str, bytes] | None:
    """The collection as the snapshot holds it (cluster mode), or None when the database has none."""
    if "collection_state" not in table_names(conn) or not changes.seeded(conn):
        return None
    paths = list(changes.live_checksums(conn))
    return {path: state.data for path, state in changes.files(conn, paths).items() if state.data is not None}


def _folder_files(articles_dir: Path) -> dict[str, bytes]:
    root = Path(articles_dir)
    if not root.is_dir():
        return {}
    stale = set(stale_temp_files(root, recursive=True))
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and path not in stale and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path.read_bytes()  # not .git/ or an editor's hidden files
    return files


# -- taking a backup ----------------------------------------------------------------------------


def backup(settings: Settings, path: Path, index_root: Path | None = None,
           database: Database | None = None) -> BackupReport:
    """Write the archive of `settings`' database, articles and settings to `path` (atomically).
    `database`: the caller's, already opened and migrated (``kb backup`` checks it first), so
    it is not opened and migrated twice; its connections are closed at the end either way."""
    started = time.monotonic()
    path = Path(path)
    database = database or Database.from_settings(settings)
    archive = ArchiveWriter(path)
    try:
        with _publish_lock(index_root or settings.index_dir):
            with snapshot(database) as conn:
                applied = sorted(row["name"] for row in conn.execute("SELECT name FROM schema_migrations"))
                tables = dump_tables(conn)
                files = _collection_files(conn)
            if files is None:  # the folder is the collection: read it while no editor writes
                files = _folder_files(settings.articles_dir)
        counts = {}
        for table, (columns, rows) in tables.items():
            archive.add_table(table, columns, rows)
            counts[table] = {"rows": len(rows), "columns": columns}
        for name, data in sorted(files.items()):
            archive.add(f"articles/{name}", data)
        settings_files = []
        try:
            archive.add("settings/kb.toml", config_path().read_bytes())
            settings_files.append("kb.toml")
        except (FileNotFoundError, IsADirectoryError):
            pass  # no kb.toml: the defaults and the environment are the settings
        key_file = settings.secret_key_path
        if key_file.is_file() and database.dialect == "sqlite":  # on PostgreSQL the key is a row of shared_secrets
            archive.add("settings/secret_key", key_file.read_bytes())
            settings_files.append("secret_key")
        size = archive.finish({
            "format": FORMAT, "version": VERSION, "kb_version": _kb_version(), "created_at": utc_timestamp(),
            "source": database.dialect, "migrations": applied, "tables": counts, "articles": len(files),
            "settings": settings_files,
        })
    except BaseException:
        archive.abandon()
        raise
    finally:
        database.close()
    return BackupReport(path, len(tables), sum(c["rows"] for c in counts.values()), len(files), size,
                        time.monotonic() - started)


def _kb_version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version

    try:
        return version("kb")
    except PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def _publish_lock(index_root: Path):
    from kb.publishing import publish_lock  # noqa: PLC0415 - the editor's lock, held while reading its files

    with publish_lock(Path(index_root), wait=True):
        yield


# -- restoring -----------------------------------------------------------------------------------


def _has_content(settings: Settings, database: Database) -> list[str]:
    """What the restore target already holds (empty: safe to restore into)."""
    found = []
    articles = Path(settings.articles_dir)
    if articles.is_dir() and any(articles.rglob("*.md")):
        found.append(N_("articles in %(folder)s", folder=str(articles)))
    conn = database.connection()
    for table in table_names(conn):
        if table in ("schema_migrations", "shared_secrets"):
            continue
        if conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
            found.append(N_("rows in the database %(database)s", database=database.describe()))
            break
    return found


def _set_aside(path: Path, stamp: str) -> Path | None:
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    path.rename(aside)
    return aside


def _clear_database(database: Database, stamp: str) -> None:
    """--force: an empty database to restore into (the SQLite file moved aside, its next
    connection a new file; PostgreSQL's tables emptied: take a backup of it first)."""
    if database.dialect == "sqlite":
        database.close()
        for suffix in ("", "-wal", "-shm"):
            _set_aside(Path(f"{database.path}{suffix}"), stamp)
        return
    conn = database.connection()
    tables = table_names(conn)
    if tables:
        conn.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def restore(settings: Settings, path: Path, force: bool = False, progress=None,
            database: Database | None = None) -> RestoreReport:
    """Restore the archive at `path` into `settings`' database, articles folder and data folder,
    then rebuild the index.  Refused while a ``kb serve`` on this machine serves the index
    folder (code ``server_running``); stop the others using them too.  `database`: the caller's,
    opened without migrating (``kb restore`` checks it is reachable first): one opening serves
    the check for content, the clearing and the load; its connections are closed at the end."""
    try:
        # A server running here would write on into what this moves aside (kb.serving_marker).
        with without_a_server(settings.index_dir, "kb restore"):
            return _restore(settings, path, force, progress, database)
    finally:
        if database is not None:
            database.close()


def _restore(settings: Settings, path: Path, force: bool, progress, database: Database | None) -> RestoreReport:
    from kb.knowledge import KnowledgeBase  # noqa: PLC0415 - the index is rebuilt at the end

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kb-restore-") as temp:
        folder = Path(temp)
        manifest = read_archive(path, folder)
        database = database or Database.from_settings(settings, migrate=False)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        try:
            present = _has_content(settings, database)
            if present and not force:
                raise KbError("restore_target_not_empty", N_(
                    "the restore target is not empty (%(what)s): restore into an empty install, or add --force to "
                    "replace it (the SQLite file and the articles folder are moved aside, PostgreSQL's tables are "
                    "emptied)", what=present[0] if len(present) == 1 else N_("%(first)s; %(second)s",
                                                                            first=present[0], second=present[1])))
            rows = _replace_rows(database, folder, manifest, force, stamp)
        finally:
            database.close()
        files = _restore_files(settings, folder, stamp, force)
        _restore_settings(settings, folder, manifest)
    knowledge = KnowledgeBase.from_settings(settings)
    try:
        report = knowledge.build(progress=progress)
    finally:
        knowledge.close()
    return RestoreReport(manifest.get("created_at", ""), manifest.get("source", ""), len(manifest["tables"]), rows,
                         files, report.articles, time.monotonic() - started)


def _replace_rows(database: Database, folder: Path, manifest: dict, force: bool, stamp: str) -> int:
    """The database's tables replaced by the archive's: cleared (--force), the schema as the
    archive's migrations left it, its rows, then this kb's newer migrations.

    On PostgreSQL all of it is one transaction (its DDL is transactional): nodes still running
    see the old tables until the commit, then the restored ones, never empty or half-filled
    tables. A node that saw them empty could seed its folder into them (a worker that starts
    then finds an unseeded database) and take the seqs the archive's change log holds."""
    if database.dialect == "sqlite":
        if force:
            _clear_database(database, stamp)
        return _load_archive(database.connection(), folder, manifest)
    conn = database.connection()
    with conn.transaction():
        if force:
            _clear_database(database, stamp)
        return _load_archive(conn, folder, manifest)


def _load_archive(conn: Connection, folder: Path, manifest: dict) -> int:
    with tempfile.TemporaryDirectory(prefix="kb-migrations-") as older:
        for migration in migration_files():
            if migration.stem in manifest["migrations"]:
                shutil.copy(migration, Path(older) / migration.name)
        migrate(conn, Path(older))
    rows = load_rows(conn, folder, manifest)
    migrate(conn)
    archived_key = folder / "settings" / "secret_key"
    if archived_key.is_file() and conn.dialect == "postgresql" and not conn.execute(
            "SELECT 1 FROM shared_secrets WHERE name = ?", (SECRET_KEY,)).fetchone():
        # A SQLite install's key: the sessions it signed stay valid on every node.
        set_shared_secret(conn, SECRET_KEY, archived_key.read_text(encoding="utf-8").strip())
    return rows


def _restore_files(settings: Settings, folder: Path, stamp: str, force: bool) -> int:
    articles = Path(settings.articles_dir)
    if force:
        _set_aside(articles, stamp)
    source = folder / "articles"
    count = 0
    articles.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                atomic_write_bytes(articles / path.relative_to(source), path.read_bytes())
                count += 1
    return count


def _restore_settings(settings: Settings, folder: Path, manifest: dict) -> None:
    """The secret key (sessions signed before the backup stay valid) and kb.toml where none is.

    An existing kb.toml is kept: it says where this install's database and folders are, which
    the restore just used; the archived one is left beside it to compare."""
    key = folder / "settings" / "secret_key"
    if key.is_file() and not settings.secret_key:
        atomic_write_text(settings.secret_key_path, key.read_text(encoding="utf-8").strip(), mode=0o600)
    elif manifest["source"] == "postgresql" and not settings.secret_key:
        _key_from_rows(settings, folder)
    archived = folder / "settings" / "kb.toml"
    if archived.is_file():
        target = config_path()
        if not target.exists():
            atomic_write_bytes(target, archived.read_bytes())
        elif target.read_bytes() != archived.read_bytes():
            atomic_write_bytes(target.with_name(target.name + ".from-backup"), archived.read_bytes())


def _key_from_rows(settings: Settings, folder: Path) -> None:
    """A PostgreSQL backup restored into SQLite: the cluster's key becomes data_dir's file."""
    rows = folder / "database" / "shared_secrets.jsonl"
    if not rows.is_file():
        return
    for line in rows.read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        if row.get("name") == SECRET_KEY:
            atomic_write_text(settings.secret_key_path, row["value"], mode=0o600)

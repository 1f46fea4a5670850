"""``kb backup FILE`` / ``kb restore FILE``: the database, the articles and the settings in one
archive, taken while the site serves, restorable into either database.

The archive is a gzip'd tar with a portable content, so a backup of a SQLite install restores
into PostgreSQL (how a team moves to several machines) and back:

- ``database/<table>.jsonl``: every row of every table as one JSON object a line (bytes as
  ``{"$bytes": base64}``), all read from ONE snapshot: SQLite's backup API copies the file
  page by page into a temporary copy (writers go on meanwhile; the copy is one consistent
  moment), PostgreSQL reads every table in one REPEATABLE READ, READ ONLY transaction;
- ``articles/``: the collection.  When the database holds it (kb.store.changes, cluster
  mode), the files are written from the SAME snapshot, so articles and revisions agree;
  otherwise the articles folder is copied, and the snapshot taken, under the publish lock
  (no editor write can fall between the two);
- ``settings/``: kb.toml (when there is one) and the generated secret key (data_dir's file;
  on PostgreSQL the key is a row of ``shared_secrets``, in the tables);
- ``manifest.json`` (the last member): the format version, the migrations applied, the row
  count of each table and the SHA-256 of every member.

A restore checks the archive before touching anything (format, version, every checksum,
migrations this kb knows), refuses a target that already has content unless ``force`` (then
the old SQLite file and articles folder are moved aside, never deleted), creates the schema
as the archive's migrations left it, loads the rows, applies the newer migrations, writes
the articles and the secret key, and rebuilds the index.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kb.config import Settings
from kb.config import config_path
from kb.errors import KbError
from kb.fsutil import atomic_write_bytes
from kb.fsutil import atomic_write_text
from kb.fsutil import stale_temp_files
from kb.store import changes
from kb.store.db import Connection
from kb.store.db import Database
from kb.store.db import connect
from kb.store.db import migrate
from kb.store.db import migration_files
from kb.store.db import table_columns
from kb.store.db import utc_timestamp
from kb.store.secrets import SECRET_KEY
from kb.store.secrets import set_shared_secret
from kb.translation import N_

FORMAT = "kb-backup"
VERSION = 1
MANIFEST = "manifest.json"
_BATCH = 500  # rows inserted per statement batch on restore


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


# -- reading one snapshot --------------------------------------------------------------------------


def _tables(conn: Connection) -> list[str]:
    if conn.dialect == "sqlite":
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                            "ORDER BY name").fetchall()
    else:
        rows = conn.execute("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
                            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
    return [row["name"] for row in rows]


def _encode(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


def _decode(value):
    if isinstance(value, dict) and "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return value


def _dump_tables(conn: Connection) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows (in key order), read by `conn` (inside its snapshot)."""
    dumped = {}
    for table in _tables(conn):
        cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1')
        columns = [column[0] for column in cursor.description]
        dumped[table] = (columns, [tuple(row) for row in cursor.fetchall()])
    return dumped


@contextlib.contextmanager
def _snapshot(database: Database) -> Iterator[Connection]:
    """A connection that sees one moment of the database for as long as the block runs."""
    if database.dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kb-backup-") as folder:
            copy = Path(folder) / "snapshot.sqlite3"
            source = sqlite3.connect(database.path, timeout=30)
            target = sqlite3.connect(copy)
            try:
                source.backup(target)  # the online backup API: one consistent copy while writers go on
            finally:
                target.close()
                source.close()
            conn = connect(copy)
            try:
                yield conn
            finally:
                conn.close()
        return
    conn = connect(database.target)
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn
    finally:
        conn.close()


def _collection_files(conn: Connection) -> dict[str, bytes] | None:
    """The collection as the snapshot holds it (cluster mode), or None when the database has none."""
    if "collection_state" not in _tables(conn) or not changes.seeded(conn):
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


# -- writing the archive -----------------------------------------------------------------------


class _Archive:
    """A tar.gz written member by member, each one's SHA-256 noted for the manifest."""

    def __init__(self, path: Path):
        self.path = path
        self.temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.tar = tarfile.open(self.temp, "w:gz", compresslevel=6)
        self.checksums: dict[str, str] = {}
        self.mtime = time.time()

    def add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), self.mtime, 0o600 if name.startswith("settings/") else 0o644
        self.tar.addfile(info, io.BytesIO(data))
        self.checksums[name] = hashlib.sha256(data).hexdigest()

    def finish(self, manifest: dict) -> int:
        manifest["checksums"] = self.checksums
        self.add(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode())
        self.tar.close()
        with open(self.temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(self.temp, 0o600)  # it holds the secret key and password hashes
        os.replace(self.temp, self.path)
        return self.path.stat().st_size

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self.tar.close()
        self.temp.unlink(missing_ok=True)


def backup(settings: Settings, path: Path, index_root: Path | None = None,
           database: Database | None = None) -> BackupReport:
    """Write the archive of `settings`' database, articles and settings to `path` (atomically).
    `database`: the caller's, already opened and migrated (``kb backup`` checks it first), so
    it is not opened and migrated twice; its connections are closed at the end either way."""
    started = time.monotonic()
    path = Path(path)
    database = database or Database.from_settings(settings)
    archive = _Archive(path)
    try:
        with _publish_lock(index_root or settings.index_dir):
            with _snapshot(database) as conn:
                applied = sorted(row["name"] for row in conn.execute("SELECT name FROM schema_migrations"))
                tables = _dump_tables(conn)
                files = _collection_files(conn)
            if files is None:  # the folder is the collection: read it while no editor writes
                files = _folder_files(settings.articles_dir)
        counts = {}
        for table, (columns, rows) in tables.items():
            lines = [json.dumps(dict(zip(columns, map(_encode, row))), ensure_ascii=False) for row in rows]
            archive.add(f"database/{table}.jsonl", ("\n".join(lines) + "\n" if lines else "").encode())
            counts[table] = {"rows": len(rows), "columns": columns}
        for name, data in sorted(files.items()):
            archive.add(f"articles/{name}", data)
        settings_files = []
        if config_path().is_file():
            archive.add("settings/kb.toml", config_path().read_bytes())
            settings_files.append("kb.toml")
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


def _bad(message) -> KbError:
    return KbError("bad_backup", message)


def read_archive(path: Path, into: Path) -> dict:
    """Extract `path` into `into` and check it: the manifest, the format and version, and the
    SHA-256 of every member.  Returns the manifest."""
    path = Path(path)
    if not path.is_file():
        raise _bad(N_("%(file)s: no such file", file=str(path)))
    try:
        with tarfile.open(path, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                name = member.name
                if not member.isfile() or name.startswith("/") or ".." in Path(name).parts:
                    raise _bad(N_("%(file)s: unexpected member %(member)r: not a kb backup", file=str(path), member=name))
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise _bad(N_("%(file)s: not a readable kb backup (%(reason)s)", file=str(path), reason=str(exc))) from exc
    manifest_path = into / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _bad(N_("%(file)s: no readable manifest.json: not a kb backup", file=str(path))) from exc
    if manifest.get("format") != FORMAT:
        raise _bad(N_("%(file)s: not a kb backup", file=str(path)))
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        raise _bad(N_("%(file)s: backup format %(version)s is newer than this kb reads (%(known)s): upgrade kb first",
                   file=str(path), version=manifest.get("version"), known=VERSION))
    listed = manifest.get("checksums", {})
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {MANIFEST}
    if set(listed) != present:
        missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
        raise _bad(N_("%(file)s: members missing %(missing)s or not listed %(extra)s: the archive is damaged",
                   file=str(path), missing=", ".join(missing[:5]) or "-", extra=", ".join(extra[:5]) or "-"))
    for name, checksum in listed.items():
        if hashlib.sha256((into / name).read_bytes()).hexdigest() != checksum:
            raise _bad(N_("%(file)s: %(member)s does not match its checksum: the archive is damaged",
                       file=str(path), member=name))
    known = {p.stem for p in migration_files()}
    unknown = sorted(set(manifest.get("migrations", [])) - known)
    if unknown:
        raise _bad(N_("%(file)s: made by a newer kb (migrations %(names)s unknown here): upgrade kb first",
                   file=str(path), names=", ".join(unknown)))
    return manifest


def _has_content(settings: Settings, database: Database) -> list[str]:
    """What the restore target already holds (empty: safe to restore into)."""
    found = []
    articles = Path(settings.articles_dir)
    if articles.is_dir() and any(articles.rglob("*.md")):
        found.append(N_("articles in %(folder)s", folder=str(articles)))
    conn = database.connection()
    for table in _tables(conn):
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
    tables = _tables(conn)
    if tables:
        conn.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def _load_rows(conn: Connection, folder: Path, manifest: dict) -> int:
    """Insert every archived row (parents before children: tables ordered by their foreign keys)."""
    target_tables = set(_tables(conn))
    archived = [t for t in manifest["tables"] if t in target_tables and t != "schema_migrations"]
    total = 0
    with conn.transaction():
        for table in _fk_order(conn, archived):
            target_columns = set(table_columns(conn, table))
            lines = (folder / "database" / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
            if not rows:
                continue
            columns = [c for c in manifest["tables"][table]["columns"] if c in target_columns]
            sql = (f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
                   f'VALUES ({", ".join("?" * len(columns))})')
            for start in range(0, len(rows), _BATCH):
                conn.executemany(sql, [tuple(_decode(row.get(c)) for c in columns) for row in rows[start:start + _BATCH]])
            total += len(rows)
        if conn.dialect == "postgresql":
            _reset_identities(conn, archived)
    return total


def _fk_order(conn: Connection, tables: list[str]) -> list[str]:
    """`tables` with every table after the ones its foreign keys point to."""
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for table in tables:
        if conn.dialect == "sqlite":
            rows = conn.execute("SELECT \"table\" AS parent FROM pragma_foreign_key_list(?)", (table,)).fetchall()
        else:
            rows = conn.execute("SELECT ccu.table_name AS parent FROM information_schema.table_constraints tc "
                                "JOIN information_schema.constraint_column_usage ccu "
                                "ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
                                "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = ?", (table,)).fetchall()
        parents[table] = {row["parent"] for row in rows if row["parent"] in parents and row["parent"] != table}
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, needs in parents.items() if not needs - set(ordered))
        if not ready:  # a cycle: keep the rest in name order (the insert then reports the problem)
            ready = sorted(parents)
        for table in ready:
            ordered.append(table)
            del parents[table]
    return ordered


def _reset_identities(conn: Connection, tables: list[str]) -> None:
    """PostgreSQL: identity columns continue after the restored ids (rows came with theirs)."""
    for table in tables:
        rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                            "AND table_name = ? AND is_identity = 'YES'", (table,)).fetchall()
        for row in rows:
            column = row["column_name"]
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                         f"COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0) + 1, false)")


def restore(settings: Settings, path: Path, force: bool = False, progress=None,
            database: Database | None = None) -> RestoreReport:
    """Restore the archive at `path` into `settings`' database, articles folder and data folder,
    then rebuild the index.  Stop every kb serve using them first.  `database`: the caller's,
    opened without migrating (``kb restore`` checks it is reachable first): one opening serves
    the check for content, the clearing and the load; its connections are closed at the end."""
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
            if force:
                _clear_database(database, stamp)
            # The schema as the archive's migrations left it, its rows, then this kb's newer migrations.
            conn = database.connection()
            with tempfile.TemporaryDirectory(prefix="kb-migrations-") as older:
                for migration in migration_files():
                    if migration.stem in manifest["migrations"]:
                        shutil.copy(migration, Path(older) / migration.name)
                migrate(conn, Path(older))
            rows = _load_rows(conn, folder, manifest)
            migrate(conn)
            archived_key = folder / "settings" / "secret_key"
            if archived_key.is_file() and conn.dialect == "postgresql" and not conn.execute(
                    "SELECT 1 FROM shared_secrets WHERE name = ?", (SECRET_KEY,)).fetchone():
                # A SQLite install's key: the sessions it signed stay valid on every node.
                set_shared_secret(conn, SECRET_KEY, archived_key.read_text(encoding="utf-8").strip())
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

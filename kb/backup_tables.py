"""A database's tables copied out of one snapshot and loaded back, on SQLite or PostgreSQL.

Apart from kb.backup (what a backup holds and the order a restore goes in) because this is
the part that speaks each database's dialect: listing the tables, reading them all at one
moment while writers go on (SQLite's online backup API; PostgreSQL's REPEATABLE READ, READ
ONLY transaction), and inserting archived rows parents first, with PostgreSQL's identity
columns moved past the restored ids.  Rows are plain columns and values here, so a backup
of either database loads into the other.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterator

from kb.backup_archive import archived_rows
from kb.store.db import Connection
from kb.store.db import Database
from kb.store.db import connect
from kb.store.db import table_columns

_BATCH = 500  # rows inserted per statement batch on restore


def table_names(conn: Connection) -> list[str]:
    """The database's tables, by name (SQLite's own excluded)."""
    if conn.dialect == "sqlite":
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                            "ORDER BY name").fetchall()
    else:
        rows = conn.execute("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
                            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
    return [row["name"] for row in rows]


def dump_tables(conn: Connection) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows (in key order), read by `conn` (inside its snapshot)."""
    dumped = {}
    for table in table_names(conn):
        cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1')
        columns = [column[0] for column in cursor.description]
        dumped[table] = (columns, [tuple(row) for row in cursor.fetchall()])
    return dumped


@contextlib.contextmanager
def snapshot(database: Database) -> Iterator[Connection]:
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


def load_rows(conn: Connection, folder: Path, manifest: dict) -> int:
    """Insert every archived row (parents before children: tables ordered by their foreign keys)."""
    target_tables = set(table_names(conn))
    archived = [t for t in manifest["tables"] if t in target_tables and t != "schema_migrations"]
    total = 0
    with conn.transaction():
        for table in _fk_order(conn, archived):
            target_columns = set(table_columns(conn, table))
            rows = archived_rows(folder, table)
            if not rows:
                continue
            columns = [c for c in manifest["tables"][table]["columns"] if c in target_columns]
            sql = (f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
                   f'VALUES ({", ".join("?" * len(columns))})')
            for start in range(0, len(rows), _BATCH):
                conn.executemany(sql, [tuple(row.get(c) for c in columns) for row in rows[start:start + _BATCH]])
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

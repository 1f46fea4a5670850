"""The published collection in the database, and the change log every node applies.

Each node of a cluster keeps its own ``articles/`` folder and indexes as a local copy; the
database holds what they must agree on: every file of the collection (``collection_files``:
articles and their ``_trash/`` copies, ``_categories.yml``, ``_synonyms.yml``,
``_dialect.yml``, the ``_media/`` images) and an append-only log of changes
(``collection_changes``) that ``kb.replication`` applies on every node, in ``seq`` order.

A change is recorded in the transaction of the edit that makes it (with its revision and
audit rows), holding the publish lock (:data:`LOCK`), so seqs commit in the order they are
numbered: a node that has applied seq n never finds an n-1 appearing later.  PostgreSQL
then tells the listening nodes (NOTIFY on :data:`CHANNEL`, delivered at commit).

This module knows tables only: no files, indexes or Flask.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from kb.store.db import utc_timestamp

LOCK = "kb-publish"  # the publish lock: every write of the collection, on every node
CHANNEL = "kb_changes"  # PostgreSQL NOTIFY channel; the payload is the new seq
_TEXT_SUFFIXES = (".md", ".yml", ".yaml")
_SEEDED = "seeded"


@dataclass(frozen=True)
class FileState:
    """A file as the database holds it now; ``data`` is None once it was deleted."""

    path: str
    data: bytes | None
    checksum: str
    seq: int

    @property
    def deleted(self) -> bool:
        return self.data is None


@dataclass(frozen=True)
class Change:
    seq: int
    path: str
    action: str  # write | delete
    checksum: str  # of the written bytes; "" for a delete
    origin: str
    created_at: str


def checksum(data: bytes | None) -> str:
    """SHA-256 of a file's bytes; "" for no file."""
    return "" if data is None else hashlib.sha256(data).hexdigest()


def default_node_id(index_dir: Path | str) -> str:
    """This node's name when the ``node_id`` setting is empty: the host name and a hash of
    the index folder, so worker processes sharing one folder are one node and two folders on
    one host (a test, a staging copy) are two."""
    folder = str(Path(index_dir).resolve())
    return f"{socket.gethostname()}-{hashlib.sha256(folder.encode('utf-8')).hexdigest()[:8]}"


def _encode(path: str, data: bytes) -> tuple[str, str]:
    if path.endswith(_TEXT_SUFFIXES):
        try:
            return data.decode("utf-8"), "text"
        except UnicodeDecodeError:
            pass  # a broken file is still the collection's: kept byte for byte
    return base64.b64encode(data).decode("ascii"), "base64"


def _decode(content: str, encoding: str) -> bytes:
    if encoding == "text":
        return content.encode("utf-8")
    try:
        return base64.b64decode(content.encode("ascii"), validate=True)
    except binascii.Error as exc:  # only a hand-edited row: say which
        raise ValueError(f"collection_files: the base64 content is damaged ({exc})") from exc


def _state(row) -> FileState:
    data = None if row["deleted"] else _decode(row["content"], row["encoding"])
    return FileState(row["path"], data, row["checksum"], int(row["seq"]))


def record(conn, path: str, data: bytes | None, origin: str) -> int | None:
    """Record that `path` now holds `data` (None: deleted), inside the caller's transaction.

    Returns the change's seq, or None when the database already holds exactly that (a
    save that changed nothing, a delete of what is not there).  Takes the publish lock
    (re-entrant within a transaction on PostgreSQL) so seqs commit in order."""
    conn.lock(LOCK)
    current = conn.execute("SELECT checksum, deleted FROM collection_files WHERE path = ?", (path,)).fetchone()
    digest = checksum(data)
    if current is None:
        if data is None:
            return None
    elif current["deleted"] if data is None else (not current["deleted"] and current["checksum"] == digest):
        return None
    now = utc_timestamp()
    action = "delete" if data is None else "write"
    seq = conn.execute(
        "INSERT INTO collection_changes (path, action, checksum, origin, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
        (path, action, digest, origin, now),
    ).fetchone()[0]
    content, encoding = ("", "text") if data is None else _encode(path, data)
    conn.execute(
        """INSERT INTO collection_files (path, content, encoding, checksum, deleted, seq, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (path) DO UPDATE SET content = excluded.content, encoding = excluded.encoding,
               checksum = excluded.checksum, deleted = excluded.deleted, seq = excluded.seq,
               updated_at = excluded.updated_at""",
        (path, content, encoding, digest, 1 if data is None else 0, seq, now),
    )
    conn.notify(CHANNEL, str(seq))
    return int(seq)


def current(conn, path: str) -> FileState | None:
    """The file as the database holds it (deleted files too), or None if it never had it."""
    row = conn.execute("SELECT * FROM collection_files WHERE path = ?", (path,)).fetchone()
    return _state(row) if row is not None else None


def files(conn, paths: Iterable[str]) -> dict[str, FileState]:
    """Several files at once (in chunks: both drivers cap the parameters of one statement)."""
    wanted = list(dict.fromkeys(paths))
    found: dict[str, FileState] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT * FROM collection_files WHERE path IN ({marks})", tuple(chunk)):
            found[row["path"]] = _state(row)
    return found


def live_named(conn, name: str) -> list[str]:
    """The live files called `name` in any folder (``slug.md``: is a slug taken on any node?)."""
    pattern = "%/" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute("SELECT path FROM collection_files WHERE deleted = 0 AND path LIKE ? ESCAPE '\\'", (pattern,))
    return [row["path"] for row in rows if row["path"].rsplit("/", 1)[-1] == name]


def live_checksums(conn) -> dict[str, str]:
    """Path → checksum of every file the collection has now (not deleted)."""
    return {row["path"]: row["checksum"]
            for row in conn.execute("SELECT path, checksum FROM collection_files WHERE deleted = 0")}


def changes_after(conn, seq: int, limit: int = 1000) -> list[Change]:
    rows = conn.execute(
        "SELECT seq, path, action, checksum, origin, created_at FROM collection_changes WHERE seq > ? ORDER BY seq LIMIT ?",
        (seq, limit),
    )
    return [_change(row) for row in rows]


def _change(row) -> Change:
    return Change(int(row["seq"]), row["path"], row["action"], row["checksum"], row["origin"], row["created_at"])


def change_at(conn, seq: int) -> Change | None:
    """The change numbered `seq`, or None (never made; or the database was restored to before it)."""
    row = conn.execute("SELECT seq, path, action, checksum, origin, created_at FROM collection_changes WHERE seq = ?",
                       (seq,)).fetchone()
    return _change(row) if row is not None else None


def head(conn) -> int:
    """The newest seq (0: no change yet)."""
    return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM collection_changes").fetchone()[0])


def oldest_after(conn, seq: int) -> str | None:
    """When the oldest change after `seq` was made (how long a node at `seq` is behind)."""
    row = conn.execute("SELECT created_at FROM collection_changes WHERE seq > ? ORDER BY seq LIMIT 1", (seq,)).fetchone()
    return row["created_at"] if row else None


def states_since(conn, path: str, seq: int) -> set[str]:
    """The checksums `path` has had from change `seq` on ("" = no file): what a node at `seq`
    may find on its disk without anyone having edited it there (its own version, or one
    being applied or written by a publish of this node)."""
    base = conn.execute(
        "SELECT checksum FROM collection_changes WHERE path = ? AND seq <= ? ORDER BY seq DESC LIMIT 1", (path, seq),
    ).fetchone()
    later = conn.execute("SELECT checksum FROM collection_changes WHERE path = ? AND seq > ?", (path, seq))
    return {base["checksum"] if base else ""} | {row["checksum"] for row in later}


def ever_held(conn, path: str, digest: str) -> bool:
    """Whether `path` ever held these bytes (an old version on a node's disk is no edit)."""
    return conn.execute("SELECT 1 FROM collection_changes WHERE path = ? AND checksum = ? LIMIT 1",
                        (path, digest)).fetchone() is not None


def seeded(conn) -> bool:
    return conn.execute("SELECT 1 FROM collection_state WHERE name = ?", (_SEEDED,)).fetchone() is not None


def seed(conn, read_files, origin: str) -> int:
    """Copy a node's folder into the database once: the first node with articles and a
    database that never had a collection.  `read_files()` yields (path, bytes); it is only
    called by the one node that seeds (under the lock; two nodes starting together seed
    once).  Files the database already has (published before the first seed) are kept.
    Returns how many files were copied (0: already seeded)."""
    copied = 0
    with conn.transaction():
        conn.lock(LOCK)
        if seeded(conn):
            return 0
        for path, data in read_files():
            if current(conn, path) is None and record(conn, path, data, origin) is not None:
                copied += 1
        conn.execute("INSERT INTO collection_state (name, value) VALUES (?, ?)", (_SEEDED, f"{origin} {utc_timestamp()}"))
    return copied


def set_node_position(conn, node_id: str, seq: int, applied_at: str | None) -> None:
    """Where `node_id` is in the log (the furthest any of its processes got)."""
    now = utc_timestamp()
    conn.execute(
        """INSERT INTO cluster_nodes (node_id, applied_seq, applied_at, last_seen) VALUES (?, ?, ?, ?)
           ON CONFLICT (node_id) DO UPDATE SET
               applied_seq = CASE WHEN excluded.applied_seq > cluster_nodes.applied_seq
                                  THEN excluded.applied_seq ELSE cluster_nodes.applied_seq END,
               applied_at = CASE WHEN excluded.applied_seq >= cluster_nodes.applied_seq
                                 THEN excluded.applied_at ELSE cluster_nodes.applied_at END,
               last_seen = excluded.last_seen""",
        (node_id, seq, applied_at, now),
    )


def reset_node_position(conn, node_id: str) -> None:
    """`node_id` starts over from the start of the log (the database went back in time): its row
    says so, whatever further position it reported before (set_node_position keeps the max)."""
    conn.execute(
        """INSERT INTO cluster_nodes (node_id, applied_seq, applied_at, last_seen) VALUES (?, 0, NULL, ?)
           ON CONFLICT (node_id) DO UPDATE SET applied_seq = 0, applied_at = NULL, last_seen = excluded.last_seen""",
        (node_id, utc_timestamp()),
    )

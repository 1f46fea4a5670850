"""The kb backup archive format: what a ``kb backup`` file holds, how it is written, and the
checks a file must pass before a restore trusts it.

Apart from kb.backup (taking a backup from a live install, restoring into an empty one)
because the format is a promise across kb versions: a file written today is read by a kb of
next year, on the other database.  It changes only with VERSION; the operations around it
change with the database and the collection.

The archive is a gzip'd tar with a portable content:

- ``database/<table>.jsonl``: every row of every table as one JSON object a line (bytes as
  ``{"$bytes": base64}``);
- ``articles/``: the collection, one member per file;
- ``settings/``: kb.toml (when there is one) and the generated secret key (mode 0600);
- ``manifest.json`` (the last member): the format version, the migrations applied, the row
  count and columns of each table and the SHA-256 of every member.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path

from kb.errors import KbError
from kb.store.migrate import migration_files
from kb.translation import N_

FORMAT = "kb-backup"
VERSION = 1
MANIFEST = "manifest.json"


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


# -- writing -------------------------------------------------------------------------------------


class ArchiveWriter:
    """A tar.gz written member by member, each one's SHA-256 noted for the manifest; it appears
    at `path` only when finished (a temporary file beside it until then)."""

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

    def add_table(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """One table's rows as ``database/<table>.jsonl``: a JSON object a line, bytes in base64."""
        lines = [json.dumps(dict(zip(columns, map(_encode, row))), ensure_ascii=False) for row in rows]
        self.add(f"database/{table}.jsonl", ("\n".join(lines) + "\n" if lines else "").encode())

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


# -- reading and checking ------------------------------------------------------------------------


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


def archived_rows(folder: Path, table: str) -> list[dict]:
    """`table`'s rows in an archive extracted into `folder` (by read_archive), bytes decoded."""
    lines = (folder / "database" / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
    return [{column: _decode(value) for column, value in json.loads(line).items()} for line in lines if line.strip()]

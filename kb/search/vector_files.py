"""A generation's vectors on disk: a snapshot plus an append-only journal of changes.

Rewriting the whole vector file for every published article cost 1.7 s at 10k articles
(a 120 MB file).  Instead a change appends one record to ``vectors-<n>.journal``: the new
vectors of each changed article (none for a deleted one), with a length and a CRC32, then
fsync.  The manifest, written last and atomically, records how many journal bytes are
committed; bytes past that are a crashed writer's torn tail, which readers ignore and the
next writer cuts off.  Readers that already hold the index apply only the records added
since they last looked.

When the journal outgrows a quarter of the snapshot, the two are folded into
``vectors-<n+1>.bin`` (written atomically, then named by the manifest).  Files older than
the previous snapshot are removed then; the previous one stays for readers that were
still loading it.

Record layout (little-endian)::

    b"KBJ1" | payload length (u32) | CRC32 of payload (u32) | payload
    payload = header length (u32) | JSON [[slug, [passage id, ...]], ...] | float32 vectors, in order
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.fsutil import fsync_dir
from kb.search.vector import VectorIndex

logger = logging.getLogger(__name__)

Change = tuple[str, list[str], np.ndarray]  # (slug, passage ids, vectors): the article's whole set

RECORD_MAGIC = b"KBJ1"
_RECORD_HEAD = struct.Struct("<4sII")
# Fold the journal into a new snapshot once it is this large and a quarter of the snapshot.
COMPACT_MIN_BYTES = 8 * 1024 * 1024
COMPACT_SHARE = 0.25
_SNAPSHOT = re.compile(r"^vectors-(\d+)\.bin$")


def snapshot_name(number: int) -> str:
    return f"vectors-{number}.bin"


def journal_name(snapshot: str) -> str:
    return snapshot.removesuffix(".bin") + ".journal"


def snapshot_number(snapshot: str) -> int:
    match = _SNAPSHOT.match(snapshot)
    return int(match.group(1)) if match else 0


def encode_record(changes: list[Change]) -> bytes:
    """One journal record for a set of article changes."""
    header = json.dumps([[slug, list(ids)] for slug, ids, _ in changes], ensure_ascii=False).encode("utf-8")
    matrices = [np.ascontiguousarray(vectors, dtype="<f4") for _, ids, vectors in changes if len(ids)]
    payload = struct.pack("<I", len(header)) + header + b"".join(m.tobytes() for m in matrices)
    return _RECORD_HEAD.pack(RECORD_MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode_records(data: bytes, dim: int) -> tuple[list[list[Change]], int]:
    """The complete records at the start of data, and how many bytes they take.

    Stops at the first record that is cut short or whose checksum fails (a torn write)."""
    records: list[list[Change]] = []
    offset = 0
    while offset + _RECORD_HEAD.size <= len(data):
        magic, length, checksum = _RECORD_HEAD.unpack_from(data, offset)
        start = offset + _RECORD_HEAD.size
        payload = data[start:start + length]
        if magic != RECORD_MAGIC or len(payload) < length or zlib.crc32(payload) != checksum:
            break
        (header_length,) = struct.unpack_from("<I", payload, 0)
        header = json.loads(payload[4:4 + header_length])
        vectors = np.frombuffer(payload, dtype="<f4", offset=4 + header_length).reshape(-1, dim)
        changes, row = [], 0
        for slug, ids in header:
            changes.append((slug, ids, vectors[row:row + len(ids)].astype(np.float32)))
            row += len(ids)
        records.append(changes)
        offset = start + length
    return records, offset


@dataclass(frozen=True)
class VectorFiles:
    """Where one generation's vectors are, as its manifest says: snapshot file and committed journal bytes."""

    generation: Path
    snapshot: str
    journal_bytes: int = 0

    @property
    def snapshot_path(self) -> Path:
        return self.generation / self.snapshot

    @property
    def journal_path(self) -> Path:
        return self.generation / journal_name(self.snapshot)

    def load(self) -> VectorIndex | None:
        """The snapshot with every committed journal record applied (None: no vectors here)."""
        vectors = VectorIndex.load(self.generation, self.snapshot)
        if vectors is not None and self.journal_bytes:
            self.apply_journal(vectors, 0)
        return vectors

    def apply_journal(self, vectors: VectorIndex, start: int) -> int:
        """Apply the committed records from byte `start` on to vectors; returns how many."""
        if self.journal_bytes <= start:
            return 0
        with open(self.journal_path, "rb") as handle:
            handle.seek(start)
            data = handle.read(self.journal_bytes - start)
        records, used = decode_records(data, vectors.dim)
        if used != len(data):
            raise ValueError(f"{self.journal_path}: damaged record at byte {start + used} (the manifest says "
                             f"{self.journal_bytes} bytes are committed); run 'kb index --full' to rebuild")
        for changes in records:
            vectors.replace(changes)
        return len(records)

    def append(self, changes: list[Change]) -> VectorFiles:
        """Write one record after the committed bytes (cutting off a torn tail), fsync; the
        returned position is what the manifest must record to commit it."""
        record = encode_record(changes)
        fd = os.open(self.journal_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, self.journal_bytes)
            os.lseek(fd, self.journal_bytes, os.SEEK_SET)
            view = memoryview(record)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if self.journal_bytes == 0:
            fsync_dir(self.generation)  # the journal file itself is new
        return VectorFiles(self.generation, self.snapshot, self.journal_bytes + len(record))

    def needs_compaction(self) -> bool:
        if self.journal_bytes < COMPACT_MIN_BYTES:
            return False
        try:
            size = self.snapshot_path.stat().st_size
        except FileNotFoundError:
            return True
        return self.journal_bytes > COMPACT_SHARE * size

    def write_snapshot(self, vectors: VectorIndex) -> VectorFiles:
        """Save vectors as the next snapshot, with an empty journal (the manifest must then
        name it); files older than the current snapshot are removed."""
        fresh = VectorFiles(self.generation, snapshot_name(snapshot_number(self.snapshot) + 1))
        fresh.journal_path.unlink(missing_ok=True)  # left by a compaction that crashed before its manifest
        vectors.save(self.generation, fresh.snapshot)
        keep = {self.snapshot, journal_name(self.snapshot), fresh.snapshot}
        for path in self.generation.glob("vectors*"):
            if path.name not in keep and not path.name.startswith("."):
                path.unlink(missing_ok=True)
        return fresh

    @classmethod
    def first(cls, generation: Path, vectors: VectorIndex) -> VectorFiles:
        """The snapshot of a new generation."""
        files = cls(generation, snapshot_name(1))
        vectors.save(generation, files.snapshot)
        return files

"""Where a node is in the change log, and whether the database's log is still the one it applied.

A node's position is the seq of the last change it applied (:mod:`kb.store.changes`), kept
in ``applied.json`` beside its index with that change as this node applied it (its seq,
path, action, checksum, origin and time).  A database restored to an older state (``kb
restore --force`` of an older backup, pg_dump, point-in-time recovery) takes the log back to
an older head, and its sequence with it: the next publishes are numbered again from there,
and a node past that head would skip them, believing it had applied them.  The change kept
with the position shows it: the log was rewritten when it no longer holds that change at
that seq (the head is below the position, or another change has the seq since).

Apart from the applier because it is one question with one answer, asked at start, at every
poll and by the health report, and knows nothing of files, indexes or threads.
"""

from __future__ import annotations

import calendar
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

from kb.fsutil import atomic_write_json
from kb.store import changes
from kb.store.db import TIMESTAMP_FORMAT

POSITION_FILE = "applied.json"


@dataclass(frozen=True)
class Position:
    """A seq of the change log and the change this node applied there.

    ``change`` is None at seq 0, and in a file written before kb kept the change (the first
    check against the log fills it in)."""

    seq: int = 0
    change: changes.Change | None = None

    @property
    def applied_at(self) -> str | None:
        """When the change at this position was made (the health report's applied_at)."""
        return self.change.created_at if self.change is not None else None


START = Position()


def at(change: changes.Change) -> Position:
    """The position of a node that has just applied `change`."""
    return Position(change.seq, change)


def read_position(path: Path) -> Position:
    """The position `path` holds: seq 0 without a file (or a damaged one: applying again from the
    start rewrites nothing that is right); no change in a file written before kb kept it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seq = int(data.get("applied_seq", 0))
    except (FileNotFoundError, ValueError, TypeError, AttributeError):
        return START
    kept = data.get("change")
    try:
        change = changes.Change(**kept) if isinstance(kept, dict) else None
    except TypeError:  # a field missing or unknown: as a file without the change
        change = None
    return Position(seq, change if change is not None and change.seq == seq else None)


def write_position(path: Path, node_id: str, position: Position) -> None:
    """`position` into `path`, atomically (a crash leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    change = dataclasses.asdict(position.change) if position.change is not None else None
    atomic_write_json(path, {"node_id": node_id, "applied_seq": position.seq, "change": change})


def check_log(conn, position: Position) -> tuple[Position, str | None]:
    """`position` checked against the database's change log: (the position, None) while the log
    holds it (its change filled in when it had none), or (:data:`START`, what was found) once
    the log is no longer the one it refers to: the database went back in time."""
    if position.seq <= 0:
        return position, None
    found = changes.change_at(conn, position.seq)
    if found is None:
        head = changes.head(conn)
        if head < position.seq:
            return START, f"the change log ends at change {head}, before this node's position {position.seq}"
        return START, f"change {position.seq}, this node's position, is no longer in the change log"
    if position.change is None:
        return at(found), None  # an older position file: from now on the change is known
    if found != position.change:
        was, now = position.change, found
        return START, (f"change {position.seq} is now {now.action} {now.path} ({now.created_at}, from {now.origin}), "
                       f"not {was.action} {was.path} ({was.created_at}, from {was.origin}) as this node applied it")
    return position, None


def lag(conn, position: Position) -> tuple[int, int, int]:
    """How far a node at `position` is behind, asked of the log: (its head, the age in seconds of
    the oldest change after the position, the position's seq: 0 when the log no longer holds it,
    since the node will apply the whole log again)."""
    head = changes.head(conn)
    seq = position.seq if check_log(conn, position)[1] is None else 0
    oldest = changes.oldest_after(conn, seq)
    behind = 0
    if oldest:
        behind = max(0, int(time.time() - calendar.timegm(time.strptime(oldest, TIMESTAMP_FORMAT))))
    return head, behind, seq

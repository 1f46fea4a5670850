"""Where the indexes live on disk: generations, the CURRENT pointer, the writer lock.

Layout (``index_dir``)::

    CURRENT            name of the live generation, replaced atomically
    gen-<n>/           whoosh/, vectors-<k>.bin (+ .journal), manifest.json
    embeddings/        embedding cache (shared by generations)
    write.lock         held by the one process that writes

A full rebuild writes a new generation beside the live one and then swaps CURRENT, so a
crash mid-build leaves the old index serving.  Incremental updates change the live
generation under the lock; Whoosh commits and our own files are each atomic, and the
manifest (written last) records what the generation holds.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
from pathlib import Path

from kb.errors import KbError
from kb.fsutil import atomic_write_text
from kb.fsutil import file_lock
from kb.fsutil import fsync_dir
from kb.fsutil import stale_temp_files

logger = logging.getLogger(__name__)

# Bumped whenever what a generation holds changes, so existing indexes rebuild (embeddings
# come from the cache unless their text changed).  2: a text repeating its title is embedded once.
# 3: vector changes go to a journal beside the snapshot.
SCHEMA_VERSION = 3
_WHOOSH_TOC_TEMP = re.compile(r"^_.+_\d+\.toc\.\d+(\.\d+)?$")


class IndexStore:
    def __init__(self, index_dir: Path):
        self.root = Path(index_dir)

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        """The live generation's folder, or None if nothing was built yet."""
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if path.is_dir() else None

    def current_marker(self) -> tuple:
        """Changes whenever CURRENT or the live manifest changes (cheap: two stats)."""
        markers = []
        for path in (self.current_file, (self.current() or self.root) / "manifest.json"):
            try:
                st = path.stat()
                markers.append((st.st_mtime_ns, st.st_size, st.st_ino))
            except FileNotFoundError:
                markers.append(None)
        return tuple(markers)

    def new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[4:]) for p in self.root.glob("gen-*") if p.name[4:].isdigit()]
        path = self.root / f"gen-{max(numbers, default=0) + 1}"
        path.mkdir()
        return path

    def activate(self, generation: Path) -> None:
        """Point CURRENT at generation (atomic), then drop generations older than the previous one."""
        previous = self.current()
        atomic_write_text(self.current_file, generation.name + "\n")
        keep = {generation.name, previous.name if previous else ""}
        for path in self.root.glob("gen-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def discard(self, generation: Path) -> None:
        shutil.rmtree(generation, ignore_errors=True)

    def clean_up(self) -> list[str]:
        """Remove what interrupted writers left: temp files of atomic writes and the
        generations of full builds that never became CURRENT.  Returns what it removed.

        Runs only if it gets the write lock at once: a process holding it may be building
        one of those generations right now (then nothing is touched; the next start
        cleans).  Kept: the live generation and the newest one before it (readers that
        opened it before the swap may still be loading it)."""
        if not self.root.is_dir():
            return []
        try:
            with self.write_lock(timeout=0):
                return self._clean_up_locked()
        except KbError:
            logger.info("%s: another process is writing the index; leaving its files alone", self.root)
            return []

    def _clean_up_locked(self) -> list[str]:
        removed: list[Path] = []
        live = self.current()
        numbers = {p: int(p.name[4:]) for p in self.root.glob("gen-*") if p.is_dir() and p.name[4:].isdigit()}
        live_number = numbers.get(live, -1) if live is not None else -1
        older = [n for n in numbers.values() if n < live_number]
        keep = {live_number, max(older, default=-1)}
        for path, number in sorted(numbers.items(), key=lambda item: item[1]):
            if number not in keep:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        for folder in [self.root, *(p for p in numbers if p.exists())]:
            for path in stale_temp_files(folder):
                path.unlink(missing_ok=True)
                removed.append(path)
            # Whoosh writes its table of contents as "<toc>.<time>" and renames it: a writer
            # killed in between leaves that file (its unreferenced segments Whoosh removes itself).
            whoosh = folder / "whoosh"
            for path in whoosh.glob("*.toc.*") if whoosh.is_dir() else ():
                if _WHOOSH_TOC_TEMP.match(path.name):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        if removed:
            fsync_dir(self.root)
        return [str(p.relative_to(self.root)) for p in removed]

    @contextlib.contextmanager
    def write_lock(self, timeout: float = 30.0):
        """Hold the single-writer lock across processes; wait at most `timeout` seconds."""
        with file_lock(self.root / "write.lock", timeout) as held:
            if not held:
                raise KbError(
                    "index_busy",
                    f"Another process is writing the index in {self.root} and did not finish within "
                    f"{timeout:.0f} s. Wait for it (a 'kb index' or a running server publishing) and try again.",
                    status=503,
                )
            yield

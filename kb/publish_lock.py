"""The publish lock every article write of the editor holds, and the clean-up of what a crash left.

One lock (threads here, processes through ``publish.lock`` beside the index) guards the
article files: :class:`kb.publishing.Publisher` holds it for each write, backups and
replication hold it to read or apply files, and :func:`clean_up_articles` holds it at start
to remove the temp files of writes a crash interrupted, since nobody can be writing them then.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kb.content.media import MEDIA_DIR
from kb.fsutil import file_lock
from kb.fsutil import stale_temp_files

if TYPE_CHECKING:
    from kb.knowledge import KnowledgeBase

# The name these records had before kb.publishing was split: log lines and filters stay the same.
logger = logging.getLogger("kb.publishing")

_thread_lock = threading.Lock()


@contextlib.contextmanager
def publish_lock(index_root: Path, wait: bool = True):
    """The lock every article write of the editor holds (threads, and processes through
    ``publish.lock`` beside the index).  With `wait` False, yields False at once if taken."""
    with file_lock(Path(index_root) / "publish.lock", None if wait else 0, thread_lock=_thread_lock) as held:
        yield held


# Images are written without the publish lock: only temp files older than this are stale.
_MEDIA_TEMP_AGE = 600.0


def clean_up_articles(knowledge: KnowledgeBase) -> list[str]:
    """Remove the temp files of article writes a crash interrupted (``.<name>.md.<random>.tmp``),
    at start, before serving.  Only while holding the publish lock (nobody can be writing
    them then); nothing is touched if another process holds it."""
    root = Path(knowledge.articles_dir)
    removed: list[str] = []
    with publish_lock(knowledge.store.root, wait=False) as ours:
        if not ours:
            return removed
        now = time.time()
        for path in stale_temp_files(root, recursive=True):
            relative = path.relative_to(root)
            if relative.parts[0] == MEDIA_DIR and now - path.stat().st_mtime < _MEDIA_TEMP_AGE:
                continue
            path.unlink(missing_ok=True)
            removed.append(relative.as_posix())
    if removed:
        logger.warning("removed %d temp file(s) of interrupted article writes: %s", len(removed), ", ".join(removed[:10]),
                       extra={"reported": True})  # kb serve prints it in its language
    return removed

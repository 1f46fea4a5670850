"""kb.fsutil: the lock file every writer of a folder takes, and atomic writes with and without fsync.

The locks are real flock(2) locks, held by another thread or by another Python process, as
the serving workers, ``kb index`` and the editor hold them in production.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from kb import fsutil
from kb.fsutil import atomic_write_bytes
from kb.fsutil import atomic_writer
from kb.fsutil import file_lock
from kb.fsutil import stale_temp_files

_HOLDER = textwrap.dedent("""
    import sys
    from kb.fsutil import file_lock

    with file_lock(sys.argv[1]) as held:
        print("held" if held else "not held", flush=True)
        sys.stdin.readline()  # until the test says so (or closes the pipe)
""")


@contextmanager
def other_process_holding(path: Path):
    """Another Python process holds the lock file `path` until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        if holder.poll() is None:
            holder.stdin.close()
            holder.wait(10)


def test_a_lock_held_by_another_process_is_not_had_until_it_lets_go(tmp_path):
    """GIVEN another process holds the lock WHEN tried at once, or for a moment THEN not had;
    WHEN that process lets go THEN it is had at once."""
    path = tmp_path / "index" / "write.lock"
    with other_process_holding(path) as holder:
        with file_lock(path, timeout=0) as held:
            assert held is False
        with file_lock(path, timeout=0.2) as held:
            assert held is False
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(10)
    with file_lock(path, timeout=0) as held:
        assert held is True


def test_the_lock_of_a_killed_process_is_free(tmp_path):
    """GIVEN a process holding the lock is killed (a crash, the OOM killer) THEN the lock is free:
    nothing to clean up by hand before the next start."""
    path = tmp_path / "start.lock"
    with other_process_holding(path) as holder:
        holder.kill()
        holder.wait(10)
        with file_lock(path, timeout=5) as held:
            assert held is True


def test_threads_of_one_process_exclude_each_other(tmp_path):
    """GIVEN a thread of this process holds the lock (its own descriptor, as each caller opens one)
    WHEN another thread tries THEN it does not get it; when the first lets go, the waiter does."""
    path = tmp_path / "vectors.lock"
    taken, release, results = threading.Event(), threading.Event(), []

    def hold() -> None:
        with file_lock(path) as held:
            results.append(("holder", held))
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    with file_lock(path, timeout=0) as held:
        results.append(("try", held))
    release.set()
    with file_lock(path, timeout=10) as held:
        results.append(("after", held))
    holder.join(10)
    assert results == [("holder", True), ("try", False), ("after", True)]


def test_waiting_without_a_timeout_says_so_once_then_gets_the_lock(tmp_path):
    """GIVEN another process holds the lock WHEN a caller waits as long as it takes (a worker's
    start) THEN on_wait is called once, and the lock is had as soon as the holder lets go."""
    path = tmp_path / "start.lock"
    told: list[str] = []
    with other_process_holding(path) as holder:
        threading.Timer(0.3, lambda: (holder.stdin.write("\n"), holder.stdin.flush())).start()
        with file_lock(path, on_wait=lambda: told.append("waiting")) as held:
            assert held is True
            assert holder.wait(10) == 0
    assert told == ["waiting"]
    with file_lock(path, timeout=0, on_wait=lambda: told.append("again")) as held:
        assert held is True
    assert told == ["waiting"]  # a free lock: nothing to say


def test_a_failing_block_lets_go_of_the_lock(tmp_path):
    path = tmp_path / "publish.lock"
    with pytest.raises(RuntimeError):
        with file_lock(path):
            raise RuntimeError("the write failed")
    with file_lock(path, timeout=0) as held:
        assert held is True


def test_the_thread_lock_is_taken_first_and_always_given_back(tmp_path):
    """GIVEN a caller's thread lock WHEN another thread of the process holds it THEN a try fails
    without touching the file; WHEN the file is locked by another process THEN the thread lock is
    given back all the same (no thread of this process is left stuck behind it)."""
    path = tmp_path / "publish.lock"
    guard = threading.Lock()
    guard.acquire()
    with file_lock(path, timeout=0, thread_lock=guard) as held:
        assert held is False
    assert not path.exists()  # not even created: the thread lock said no first
    guard.release()
    with other_process_holding(path):
        with file_lock(path, timeout=0, thread_lock=guard) as held:
            assert held is False
        assert guard.acquire(blocking=False)
        guard.release()
    with file_lock(path, thread_lock=guard) as held:
        assert held is True and guard.locked()
    assert not guard.locked()


@pytest.mark.parametrize("durable", [True, False])
def test_atomic_writes_replace_whole_files_with_or_without_fsync(tmp_path, monkeypatch, durable):
    """GIVEN a file WHEN replaced THEN it holds the new content with the asked mode and no temp file
    is left; with durable False nothing is fsynced (a caller syncs the lot, or the database holds
    the durable copy), with durable True the file and its folder are."""
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(fsutil.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    path = tmp_path / "articles" / "a.md"
    atomic_write_bytes(path, b"old", durable=durable)
    atomic_write_bytes(path, "جديد".encode(), mode=0o640, durable=durable)
    assert path.read_bytes() == "جديد".encode()
    assert path.stat().st_mode & 0o777 == 0o640
    assert stale_temp_files(path.parent) == []
    assert (len(synced) >= 4) if durable else synced == []


@pytest.mark.parametrize("durable", [True, False])
def test_a_failed_atomic_write_leaves_the_old_file(tmp_path, durable):
    path = tmp_path / "a.md"
    path.write_bytes(b"old")
    with pytest.raises(OSError):
        with atomic_writer(path, durable=durable) as handle:
            handle.write(b"half of the ne")
            raise OSError("disk full")
    assert path.read_bytes() == b"old"
    assert stale_temp_files(tmp_path) == []


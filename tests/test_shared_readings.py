"""The model's readings of recent questions shared by a server's worker processes
(kb.search.shared_readings), with real SQLite files and real processes.

The end-to-end check, two workers of ``kb serve --workers 2`` sharing what the model read,
is in tests/test_workers.py."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kb.search.question_memo import QuestionMemo
from kb.search.shared_readings import SharedReadings
from kb.search.shared_readings import decode
from kb.search.shared_readings import encode

ROOT = Path(__file__).resolve().parents[1]


def vector(value: float) -> np.ndarray:
    return np.full(4, value, dtype=np.float32)


def test_a_reading_comes_back_as_it_was_and_read_only():
    terms = (np.array([7, 300, 16000], dtype=np.int32), np.array([0.5, 0.25, 0.125], dtype=np.float32))
    back = decode(encode(terms))
    assert isinstance(back, tuple) and [a.dtype for a in back] == [np.int32, np.float32]
    assert [a.tolist() for a in back] == [a.tolist() for a in terms]
    one = decode(encode(vector(0.5)))
    assert isinstance(one, np.ndarray) and one.tolist() == [0.5] * 4
    with pytest.raises(ValueError):
        one[0] = 1.0  # a reading one search made is every later search's
    with pytest.raises(ValueError):
        encode(3)
    with pytest.raises(ValueError):
        decode(encode(vector(1.0)) + b"x")  # a damaged blob is refused, not misread


def test_a_process_finds_what_another_process_read(tmp_path):
    """GIVEN one worker process that read a question (its vector kept in the shared file)
    WHEN another process's memo is asked for the same question
    THEN it takes the reading from the file, the model is not asked, and its stats say so."""
    path = tmp_path / "readings.sqlite3"
    SharedReadings.create(path)
    other = textwrap.dedent(f"""
        import sys, numpy as np
        sys.path.insert(0, {str(ROOT)!r})
        from kb.search.question_memo import QuestionMemo
        from kb.search.shared_readings import SharedReadings
        memo = QuestionMemo()
        memo.share_through(SharedReadings({str(path)!r}))
        memo.remembered(("query vector", "model"), ["وين طلبي"], lambda texts: [np.full(4, 0.25, dtype=np.float32)])
    """)
    subprocess.run([sys.executable, "-c", other], check=True, timeout=60)

    memo = QuestionMemo()
    memo.share_through(SharedReadings(path))
    asked: list[str] = []
    got = memo.remembered(("query vector", "model"), ["وين طلبي", "سؤال جديد"],
                          lambda texts: asked.extend(texts) or [vector(1.0) for _ in texts])
    assert asked == ["سؤال جديد"]  # only what no process had read
    assert got[0].tolist() == [0.25] * 4 and got[1].tolist() == [1.0] * 4
    assert memo.stats() == {"readings": 2, "max_readings": 2048, "hits": 0, "shared": True, "shared_hits": 1,
                            "misses": 1}
    memo.remembered(("query vector", "model"), ["وين طلبي"], lambda texts: pytest.fail("kept here now"))
    assert memo.stats()["hits"] == 1
    # Another model's reading of the same text is its own.
    memo.remembered(("query vector", "other model"), ["وين طلبي"], lambda texts: asked.append("other") or [vector(2.0)])
    assert asked[-1] == "other"


def test_the_file_keeps_the_newest_readings_only(tmp_path):
    shared = SharedReadings.create(tmp_path / "readings.sqlite3", max_readings=3)
    for i in range(5):
        shared.put_many("v", [(f"q{i}", vector(i))])
    assert shared.count() == 3
    assert set(shared.get_many("v", [f"q{i}" for i in range(5)])) == {"q2", "q3", "q4"}
    shared.put_many("v", [("q2", vector(2))])  # read again: now the newest
    shared.put_many("v", [("q5", vector(5))])
    assert set(shared.get_many("v", [f"q{i}" for i in range(6)])) == {"q4", "q2", "q5"}


def test_clearing_the_memo_clears_the_shared_readings_too(tmp_path):
    """A benchmark timing new questions clears the memo: another worker's readings must go too."""
    memo = QuestionMemo()
    memo.share_through(SharedReadings.create(tmp_path / "readings.sqlite3"))
    memo.remembered("v", ["a"], lambda texts: [vector(1.0)])
    memo.clear()
    assert memo.shared.count() == 0 and len(memo) == 0


def test_a_shared_file_that_fails_costs_no_search(tmp_path, caplog):
    """GIVEN a shared file that cannot be opened (its folder gone)
    WHEN questions are read
    THEN the model reads them as without the file, and one warning says why."""
    memo = QuestionMemo()
    memo.share_through(SharedReadings(tmp_path / "gone" / "readings.sqlite3"))
    with caplog.at_level(logging.WARNING, logger="kb.search.shared_readings"):
        first = memo.remembered("v", ["a"], lambda texts: [vector(1.0)])
        second = memo.remembered("v", ["b"], lambda texts: [vector(2.0)])
    assert first[0].tolist() == [1.0] * 4 and second[0].tolist() == [2.0] * 4
    warnings = [r for r in caplog.records if r.name == "kb.search.shared_readings"]
    assert len(warnings) == 1 and "readings.sqlite3" in warnings[0].getMessage()
    assert memo.stats()["misses"] == 2


def test_a_forked_process_opens_its_own_connection(tmp_path):
    """The supervisor made the file before forking; each worker opens it for itself."""
    shared = SharedReadings.create(tmp_path / "readings.sqlite3")
    shared.put_many("v", [("parent", vector(1.0))])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a worker
        code = 1
        try:
            found = shared.get_many("v", ["parent"])
            shared.put_many("v", [("child", vector(2.0))])
            code = 0 if found["parent"].tolist() == [1.0] * 4 else 1
        finally:
            os.write(write, bytes([code]))
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 1) == b"\x00" and status == 0
    assert shared.get_many("v", ["child"])["child"].tolist() == [2.0] * 4


# -- the folder of one server's readings ---------------------------------------------------------------


def ended_process_id() -> int:
    """The id of a process that has ended (a child started and waited for)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return int(child.stdout)


def test_a_servers_folder_holds_its_readings_and_its_owner_and_goes_when_the_server_stops(tmp_path):
    """GIVEN a server starting (the supervisor of kb serve --workers N)
    WHEN it makes its readings folder
    THEN the folder holds the shared file and the supervisor's process id, and it is removed
    when the server stops."""
    from kb.search.shared_readings import OWNER_FILE
    from kb.search.shared_readings import server_readings

    with server_readings(tmp_path) as shared:
        folder = shared.path.parent
        assert folder.parent == tmp_path and folder.name.startswith("kb-question-readings-")
        assert (folder / OWNER_FILE).read_text() == str(os.getpid())
        shared.put_many(("vector", "model"), [("سؤال", vector(0.5))])
        assert shared.count() == 1
        shared.close()
    assert not folder.exists()


def test_a_server_removes_the_folders_of_killed_servers_and_leaves_the_others(tmp_path, caplog):
    """GIVEN readings folders left in TMPDIR: one by a supervisor killed with -9 (its process
    is gone), one of a server still running, one another program made under the same prefix
    WHEN a server starts
    THEN only the dead supervisor's folder is removed (logged), and the new server has its own."""
    from kb.search.shared_readings import OWNER_FILE
    from kb.search.shared_readings import server_readings

    dead, alive, foreign = (tmp_path / f"kb-question-readings-{name}" for name in ("dead", "alive", "foreign"))
    for folder in (dead, alive, foreign):
        folder.mkdir()
        (folder / "readings.sqlite3").write_bytes(b"x" * 1000)
    (dead / OWNER_FILE).write_text(str(ended_process_id()))
    (alive / OWNER_FILE).write_text(str(os.getppid()))  # a process that runs for the whole test
    caplog.set_level(logging.INFO, logger="kb.search.shared_readings")
    with server_readings(tmp_path) as shared:
        assert not dead.exists() and alive.exists() and foreign.exists()
        assert shared.path.parent not in (dead, alive, foreign) and shared.path.exists()
        shared.close()
    assert any(str(dead) in r.getMessage() for r in caplog.records)
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, foreign.name]
